"""How the tests start a browser: Debian's Chromium package (Playwright's own browser download does not work here),
headless, with nothing that reaches the network by itself."""

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
