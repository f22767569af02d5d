#!/usr/bin/env node
// Compiles contracts/*.sol with the pinned solcjs (node/package.json) through its standard-JSON API and
// writes one artifact per deployable contract. The EVM version is set explicitly: solc's default (osaka)
// emits opcodes that py-evm's Prague VM does not run.
//
//   node scripts/compile-contracts.cjs [--out DIR]      (default: src/provenance/chain/artifacts)
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const root = path.resolve(__dirname, '..');
const solc = require(path.join(root, 'node', 'node_modules', 'solc'));

const DEPLOYABLE = ['Federation', 'Registry', 'CrossBorder', 'PropertyRegister'];
const SETTINGS = {
  evmVersion: 'cancun',
  viaIR: true,
  optimizer: { enabled: true, runs: 1000000 },
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.deployedBytecode.immutableReferences'] } },
};
// Contracts that would pass EIP-170's 24,576 bytes at the default runs are compiled alone with fewer: `runs` trades
// code size for gas per call, and these values are the largest that leave each contract a margin under the limit
// (measured: Registry 25,248 bytes at 20,000 runs, 23,847 at 8,000; PropertyRegister 24,545 at 10,000, 23,945 at
// 5,000). Every other contract keeps the default.
const RUNS = { Registry: 8000, PropertyRegister: 5000 };

function listSources(dir, prefix = '') {
  const out = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (fs.statSync(full).isDirectory()) out.push(...listSources(full, rel));
    else if (name.endsWith('.sol')) out.push(rel);
  }
  return out;
}

function main() {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : path.join(root, 'src', 'provenance', 'chain', 'artifacts');
  const contractsDir = path.join(root, 'contracts');
  const sources = {};
  const hash = crypto.createHash('sha256');
  for (const rel of listSources(contractsDir)) {
    const content = fs.readFileSync(path.join(contractsDir, rel), 'utf8');
    sources[rel] = { content };
    hash.update(rel + '\0' + content + '\0');
  }
  const sourceHash = hash.digest('hex');
  fs.mkdirSync(outDir, { recursive: true });
  const compile = (settings) => {
    const input = { language: 'Solidity', sources, settings };
    const output = JSON.parse(solc.compile(JSON.stringify(input)));
    const errors = (output.errors || []).filter((e) => e.severity === 'error');
    for (const e of output.errors || []) process.stderr.write(e.formattedMessage + '\n');
    if (errors.length) process.exit(1);
    return output;
  };
  const builds = [[SETTINGS, DEPLOYABLE.filter((name) => !(name in RUNS))]];
  for (const [name, runs] of Object.entries(RUNS)) {
    builds.push([{ ...SETTINGS, optimizer: { enabled: true, runs } }, [name]]);
  }
  // Each build generates code for its own contracts only (code generation is most of the time); the settings
  // recorded in an artifact are the ones that built it.
  const selection = SETTINGS.outputSelection['*']['*'];
  for (const [settings, names] of builds) {
    const selected = { ...settings, outputSelection: { '*': Object.fromEntries(names.map((n) => [n, selection])) } };
    writeArtifacts(compile(selected), settings, names, outDir, sourceHash);
  }
}

function writeArtifacts(output, settings, names, outDir, sourceHash) {
  const compiler = { name: 'solc', version: solc.version(), settings };
  for (const [file, contracts] of Object.entries(output.contracts)) {
    for (const [name, c] of Object.entries(contracts)) {
      if (!names.includes(name)) continue;
      const artifact = {
        contractName: name,
        sourceName: file,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        immutableReferences: c.evm.deployedBytecode.immutableReferences || {},
        compiler,
        sourceHash,
      };
      fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 1) + '\n');
      process.stdout.write(`${name}: ${c.evm.deployedBytecode.object.length / 2} bytes deployed\n`);
    }
  }
}

main();
