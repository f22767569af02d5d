"""Fixed texts and tables of the DCAT 3 export (provenance.core.dcat)."""

from __future__ import annotations

# dct:format names an IANA media type where the document's format is one (DCAT-AP 3's dct:MediaTypeOrExtent); an
# API style (REST) or an unregistered format stays the document's literal.
FORMAT_MEDIA_TYPES = {
    "CSV": "text/csv", "TSV": "text/tab-separated-values", "JSON": "application/json",
    "JSON-LD": "application/ld+json", "GEOJSON": "application/geo+json", "XML": "application/xml",
    "PARQUET": "application/vnd.apache.parquet", "PDF": "application/pdf", "ZIP": "application/zip",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLS": "application/vnd.ms-excel",
    "TXT": "text/plain", "HTML": "text/html", "TTL": "text/turtle", "TURTLE": "text/turtle",
}
CATALOG_DESCRIPTION = {"zh": "本节点所在联盟登记的一般级数据产品与数据资源，附其元数据文件；数据本身不在目录中。",
                       "en": "The general-grade data products and resources registered in this node's federation, "
                             "with their metadata documents; the data itself is not in the catalogue."}
BOARDS_TITLE = {"zh": "板块", "en": "Boards"}  # the board taxonomy's dct:title and skos:prefLabel
