/* Compiled fast paths of certificate verification (provenance.core.certificates), pure: no I/O.
 *
 * read(doc) takes a decoded JSON document (dicts, lists, str, int, bool) and returns its content as plain
 * tuples, or None. It returns a result only for documents that the Python plain reader
 * (certificates._parse_plain) accepts, and then exactly the values that reader reads; for anything else
 * (another shape, a subclass of a JSON type, a value out of range) it returns None and the Python readers decide,
 * naming what is wrong. The dates it returns as text, for the caller to read (certificates._parse_compiled).
 * tests/certificates/test_parsing.py holds the two together over every single-value change of a certificate.
 * Two members it does not read are left to the caller, who checks them plain first (certificates._compiled._bare)
 * and only then passes the document: credentialStatus and credentialSubject.property. They are hashed with the
 * rest of the document, so the credential hash here is always over the whole of it.
 *
 * verify_core(doc, domain) runs every check of a certificate that needs nothing but the document (record ids,
 * leaf hashes, inclusion proofs, the lineage's completeness, the credential hash, the EIP-712 digest the issuer
 * signed, the dates) and answers None unless all of them hold: it can only let a certificate on to the checks
 * that consult the federation, never decide a failure, which the Python verifier then names.
 * tests/certificates/test_tamper.py holds every report of the fast path to the Python verifier's, and
 * tests/core/test_speedups.py has one forgery per check.
 *
 * inclusion_root(index, size, leaf, proof) is merkle.root_from_inclusion's loop, for the common case.
 *
 * Hashes: Keccak-256 is computed here (checked against the Python implementation before use); SHA-256 by the
 * OpenSSL that hashlib loaded, where found, else through hashlib.
 *
 * It runs no Python code while it walks a document (only dict lookups with exact str keys, type checks,
 * comparisons of exact str, int and bytes, and orjson on exact JSON types), so the borrowed references it holds
 * stay valid.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

/* Configured once from Python (certificates.py owns the values). */
static PyObject *CONTEXTS;    /* list of str */
static PyObject *TYPES;       /* list of str */
static PyObject *PROOF_TYPE;  /* str */
static PyObject *EIP712_PRIMARY, *EIP712_TYPES; /* str, str */
static PyObject *KIND, *GRADE, *SOURCE, *STATUS; /* dict str -> int */
static Py_ssize_t MAX_LINEAGE = -1;

/* Interned keys. */
#define KEYS(X) \
    X(ctx, "@context") X(type, "type") X(id, "id") X(issuer, "issuer") X(validFrom, "validFrom") \
    X(validUntil, "validUntil") X(credentialSubject, "credentialSubject") X(evidence, "evidence") \
    X(proof, "proof") X(exchangeId, "exchangeId") X(code, "code") X(name, "name") X(record, "record") \
    X(lineage, "lineage") X(registrar, "registrar") X(owner, "owner") X(kind, "kind") X(grade, "grade") \
    X(source, "source") X(rights, "rights") X(contentHash, "contentHash") X(metadataHash, "metadataHash") \
    X(supersedes, "supersedes") X(parents, "parents") X(status, "status") X(blockNumber, "blockNumber") \
    X(batched, "batched") X(chainId, "chainId") X(registry, "registry") X(exchange, "exchange") \
    X(leafIndex, "leafIndex") X(leafHash, "leafHash") X(treeSize, "treeSize") X(root, "root") \
    X(anchorBlock, "anchorBlock") X(anchorTransaction, "anchorTransaction") \
    X(checkpointSignature, "checkpointSignature") X(cosignatures, "cosignatures") \
    X(proofPurpose, "proofPurpose") X(verificationMethod, "verificationMethod") X(created, "created") \
    X(issuedBlock, "issuedBlock") X(eip712, "eip712") X(proofValue, "proofValue") \
    X(primaryType, "primaryType") X(types, "types") X(witness, "witness") X(signer, "signer") \
    X(signature, "signature") X(recognizer, "recognizer") \
    X(credentialStatus, "credentialStatus") X(property, "property") X(statusPurpose, "statusPurpose") \
    X(statusListIndex, "statusListIndex") X(statusListCredential, "statusListCredential") X(holder, "holder") \
    X(underDispute, "underDispute") X(encumbrances, "encumbrances") X(assessments, "assessments")

#define DECLARE(var, text) static PyObject *K_##var;
KEYS(DECLARE)
#undef DECLARE

/* Fixed strings of the format. */
static PyObject *S_inclusion, *S_binding, *S_assertion, *S_recognition;

#define EXACT_MAX 9007199254740991LL /* 2**53 - 1: the largest integer canonical JSON carries */

/* ---------------------------------------------------------------- small readers; NULL means "not plain" */

static PyObject *hexbytes(PyObject *s, Py_ssize_t want);

/* The value of key in a dict, borrowed; NULL if absent. */
static PyObject *
item(PyObject *d, PyObject *key)
{
    return PyDict_GetItemWithError(d, key);
}

/* d is a dict holding exactly n keys, of which the caller looks up every expected one. */
static int
is_dict_of(PyObject *d, Py_ssize_t n)
{
    return d != NULL && PyDict_CheckExact(d) && PyDict_GET_SIZE(d) == n;
}

static const char *
ascii(PyObject *s, Py_ssize_t *len)
{
    if (s == NULL || !PyUnicode_CheckExact(s)) {
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) {
        return NULL;
    }
#endif
    if (!PyUnicode_IS_ASCII(s)) {
        return NULL;
    }
    *len = PyUnicode_GET_LENGTH(s);
    return (const char *)PyUnicode_1BYTE_DATA(s);
}

static int
is_str(PyObject *s)
{
    return s != NULL && PyUnicode_CheckExact(s);
}

static int
str_equals(PyObject *s, PyObject *want)
{
    return is_str(s) && PyUnicode_Compare(s, want) == 0;
}

/* The value of each hex digit (either case); -1 for every other byte. Filled at import. */
static signed char HEXVAL[256];

static void
fill_hexval(void)
{
    memset(HEXVAL, -1, sizeof HEXVAL);
    for (int c = 0; c < 10; c++) {
        HEXVAL['0' + c] = (signed char)c;
    }
    for (int c = 0; c < 6; c++) {
        HEXVAL['a' + c] = HEXVAL['A' + c] = (signed char)(10 + c);
    }
}

/* "0x" and hex digits, as bytes: exactly want bytes, or any whole number of bytes if want < 0. New ref. */
static PyObject *
hexbuf(const char *t, Py_ssize_t n, Py_ssize_t want)
{
    Py_ssize_t i;
    if (t == NULL || n < 2 || t[0] != '0' || t[1] != 'x' || (n - 2) % 2 != 0) {
        return NULL;
    }
    if (want >= 0 && n - 2 != 2 * want) {
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (n - 2) / 2);
    if (out == NULL) {
        return NULL;
    }
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    for (i = 0; i < (n - 2) / 2; i++) {
        int hi = HEXVAL[(unsigned char)t[2 + 2 * i]], lo = HEXVAL[(unsigned char)t[3 + 2 * i]];
        if (hi < 0 || lo < 0) {
            Py_DECREF(out);
            return NULL;
        }
        o[i] = (unsigned char)(hi << 4 | lo);
    }
    return out;
}

/* An int (not a bool, not a subclass) in lo..hi, as a new reference to the same object. */
static PyObject *
uint_in(PyObject *v, long long lo, long long hi)
{
    int overflow = 0;
    if (v == NULL || !PyLong_CheckExact(v)) {
        return NULL;
    }
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred()) || x < lo || x > hi) {
        PyErr_Clear();
        return NULL;
    }
    Py_INCREF(v);
    return v;
}

static PyObject *
label(PyObject *map, PyObject *v)
{
    if (!is_str(v)) {
        return NULL;
    }
    PyObject *x = PyDict_GetItemWithError(map, v);
    Py_XINCREF(x);
    return x;
}

/* Fill slot i of tuple t with a new reference, or fail. */
#define SET(t, i, expr) do { PyObject *v_ = (expr); if (v_ == NULL) goto fail; PyTuple_SET_ITEM(t, i, v_); } while (0)

/* ---------------------------------------------------------------- records and inclusions */

/* A record as CertRecord's fields in order: (id, registrar, owner, kind, grade, source, rights, contentHash,
 * metadataHash, supersedes, parents, status, blockNumber, batched). */
static PyObject *
read_record(PyObject *o)
{
    PyObject *t = NULL, *parents = NULL, *pl, *b;
    Py_ssize_t i, n;
    if (!is_dict_of(o, 14)) {
        return NULL;
    }
    pl = item(o, K_parents);
    if (pl == NULL || !PyList_CheckExact(pl) || PyList_GET_SIZE(pl) > 255) {
        return NULL;
    }
    t = PyTuple_New(14);
    if (t == NULL) {
        return NULL;
    }
    SET(t, 0, hexbytes(item(o, K_id), 32));
    SET(t, 1, uint_in(item(o, K_registrar), 0, 0xFFFF));
    SET(t, 2, uint_in(item(o, K_owner), 0, 0xFFFFFFFFLL));
    SET(t, 3, label(KIND, item(o, K_kind)));
    SET(t, 4, label(GRADE, item(o, K_grade)));
    SET(t, 5, label(SOURCE, item(o, K_source)));
    SET(t, 6, uint_in(item(o, K_rights), 1, 7));
    SET(t, 7, hexbytes(item(o, K_contentHash), 32));
    SET(t, 8, hexbytes(item(o, K_metadataHash), 32));
    SET(t, 9, hexbytes(item(o, K_supersedes), 32));
    n = PyList_GET_SIZE(pl);
    parents = PyTuple_New(n);
    if (parents == NULL) {
        goto fail;
    }
    for (i = 0; i < n; i++) {
        b = hexbytes(PyList_GET_ITEM(pl, i), 32);
        if (b == NULL) {
            goto fail;
        }
        PyTuple_SET_ITEM(parents, i, b);
    }
    PyTuple_SET_ITEM(t, 10, parents);
    parents = NULL;
    SET(t, 11, label(STATUS, item(o, K_status)));
    SET(t, 12, uint_in(item(o, K_blockNumber), 0, EXACT_MAX));
    b = item(o, K_batched);
    if (b == NULL || !PyBool_Check(b)) {
        goto fail;
    }
    Py_INCREF(b);
    PyTuple_SET_ITEM(t, 13, b);
    return t;
fail:
    Py_XDECREF(parents);
    Py_DECREF(t);
    return NULL;
}

/* Witnesses' cosignatures as a tuple of (witness, signer, signature). */
static PyObject *
read_cosignatures(PyObject *l)
{
    Py_ssize_t i, n = PyList_GET_SIZE(l);
    PyObject *out = PyTuple_New(n), *c, *t;
    if (out == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        c = PyList_GET_ITEM(l, i);
        if (!is_dict_of(c, 3) || (t = PyTuple_New(3)) == NULL) {
            goto fail;
        }
        PyTuple_SET_ITEM(out, i, t);
        SET(t, 0, uint_in(item(c, K_witness), 0, 0xFFFF));
        SET(t, 1, hexbytes(item(c, K_signer), 20));
        SET(t, 2, hexbytes(item(c, K_signature), -1));
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* Inclusion evidence as Inclusion's fields in order, the cosignatures as tuples. */
static PyObject *
read_inclusion(PyObject *o)
{
    PyObject *t = NULL, *proof = NULL, *pl, *cos, *b;
    Py_ssize_t i, n;
    if (!is_dict_of(o, 12) || !str_equals(item(o, K_type), S_inclusion)) {
        return NULL;
    }
    pl = item(o, K_proof);
    cos = item(o, K_cosignatures);
    if (pl == NULL || !PyList_CheckExact(pl) || cos == NULL || !PyList_CheckExact(cos)) {
        return NULL;
    }
    t = PyTuple_New(11);
    if (t == NULL) {
        return NULL;
    }
    SET(t, 0, hexbytes(item(o, K_record), 32));
    SET(t, 1, uint_in(item(o, K_exchange), 0, 0xFFFF));
    SET(t, 2, uint_in(item(o, K_leafIndex), 0, EXACT_MAX));
    SET(t, 3, hexbytes(item(o, K_leafHash), -1));
    SET(t, 4, uint_in(item(o, K_treeSize), 0, EXACT_MAX));
    SET(t, 5, hexbytes(item(o, K_root), -1));
    n = PyList_GET_SIZE(pl);
    proof = PyTuple_New(n);
    if (proof == NULL) {
        goto fail;
    }
    for (i = 0; i < n; i++) {
        b = hexbytes(PyList_GET_ITEM(pl, i), -1);
        if (b == NULL) {
            goto fail;
        }
        PyTuple_SET_ITEM(proof, i, b);
    }
    PyTuple_SET_ITEM(t, 6, proof);
    proof = NULL;
    SET(t, 7, uint_in(item(o, K_anchorBlock), 0, EXACT_MAX));
    SET(t, 8, hexbytes(item(o, K_anchorTransaction), 32));
    SET(t, 9, hexbytes(item(o, K_checkpointSignature), -1));
    SET(t, 10, read_cosignatures(cos));
    return t;
fail:
    Py_XDECREF(proof);
    Py_DECREF(t);
    return NULL;
}

static PyObject *
hexbytes(PyObject *s, Py_ssize_t want)
{
    Py_ssize_t n = 0;
    const char *t = ascii(s, &n);
    return t == NULL ? NULL : hexbuf(t, n, want);
}

/* A list (exactly) of exact str equal, in order, to the configured list. */
static int
list_equals(PyObject *l, PyObject *want)
{
    Py_ssize_t i, n;
    if (l == NULL || !PyList_CheckExact(l) || (n = PyList_GET_SIZE(l)) != PyList_GET_SIZE(want)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!str_equals(PyList_GET_ITEM(l, i), PyList_GET_ITEM(want, i))) {
            return 0;
        }
    }
    return 1;
}

static const char SUFFIX[] = "#blockchainAccountId";

/* "did:pkh:eip155:<chainId>:0x<40 hex>#blockchainAccountId" as the 20-byte address. */
static PyObject *
method_address(PyObject *v, long long chain_id)
{
    char prefix[64];
    Py_ssize_t n = 0;
    const char *t = ascii(v, &n);
    int plen = snprintf(prefix, sizeof prefix, "did:pkh:eip155:%lld:", chain_id);
    Py_ssize_t slen = (Py_ssize_t)(sizeof SUFFIX - 1);
    if (t == NULL || plen <= 0 || (size_t)plen >= sizeof prefix || n != plen + 42 + slen
            || memcmp(t, prefix, (size_t)plen) != 0 || memcmp(t + n - slen, SUFFIX, (size_t)slen) != 0) {
        return NULL;
    }
    return hexbuf(t + plen, 42, 20);
}

static PyObject *
read_doc(PyObject *doc)
{
    PyObject *t = NULL, *lineage = NULL, *incs = NULL, *recognitions, *x, *issuer, *subject, *ev, *binding, *proofs, *p0, *e;
    Py_ssize_t i, n;
    long long chain_id;
    /* 9 members, or 10 with a credentialStatus the caller checked is plain (certificates._status_plain) */
    if (!(is_dict_of(doc, 9) || (is_dict_of(doc, 10) && item(doc, K_credentialStatus) != NULL)) || !list_equals(item(doc, K_ctx), CONTEXTS) || !list_equals(item(doc, K_type), TYPES)
            || !is_str(item(doc, K_id))) {
        return NULL;
    }
    issuer = item(doc, K_issuer);
    if (!is_dict_of(issuer, 4) || !is_str(item(issuer, K_id)) || !is_str(item(issuer, K_name))) {
        return NULL;
    }
    subject = item(doc, K_credentialSubject);
    /* 3 members, or 4 with a property member the caller checked is plain (certificates._property_plain): it is
     * not read here, only hashed with the rest of the document */
    if (!(is_dict_of(subject, 3) || (is_dict_of(subject, 4) && item(subject, K_property) != NULL))
            || !is_str(item(subject, K_id))) {
        return NULL;
    }
    ev = item(doc, K_evidence);
    if (ev == NULL || !PyList_CheckExact(ev) || PyList_GET_SIZE(ev) < 1) {
        return NULL;
    }
    binding = PyList_GET_ITEM(ev, 0);
    if (!is_dict_of(binding, 3) || !str_equals(item(binding, K_type), S_binding)) {
        return NULL;
    }
    proofs = item(doc, K_proof);
    if (proofs == NULL || !PyList_CheckExact(proofs) || PyList_GET_SIZE(proofs) < 1) {
        return NULL;
    }
    p0 = PyList_GET_ITEM(proofs, 0);
    if (!is_dict_of(p0, 7) || !str_equals(item(p0, K_type), PROOF_TYPE)
            || !str_equals(item(p0, K_proofPurpose), S_assertion) || !is_str(item(p0, K_created))) {
        return NULL;
    }
    x = item(p0, K_eip712);
    if (!is_dict_of(x, 2) || !str_equals(item(x, K_primaryType), EIP712_PRIMARY)
            || !str_equals(item(x, K_types), EIP712_TYPES)) {
        return NULL;
    }
    x = item(doc, K_validFrom);
    e = item(doc, K_validUntil);
    if (!is_str(x) || !is_str(e)) {
        return NULL;
    }

    t = PyTuple_New(13);
    if (t == NULL) {
        return NULL;
    }
    SET(t, 0, uint_in(item(binding, K_chainId), 0, EXACT_MAX));
    chain_id = PyLong_AsLongLong(PyTuple_GET_ITEM(t, 0));
    SET(t, 1, hexbytes(item(binding, K_registry), 20));
    SET(t, 2, uint_in(item(issuer, K_exchangeId), 0, 0xFFFF));
    x = item(issuer, K_code);
    if (!is_str(x)) {
        goto fail;
    }
    Py_INCREF(x);
    PyTuple_SET_ITEM(t, 3, x);
    x = item(doc, K_validFrom);
    Py_INCREF(x);
    PyTuple_SET_ITEM(t, 4, x);
    x = item(doc, K_validUntil);
    Py_INCREF(x);
    PyTuple_SET_ITEM(t, 5, x);
    SET(t, 6, read_record(item(subject, K_record)));

    x = item(subject, K_lineage);
    if (x == NULL || !PyList_CheckExact(x) || PyList_GET_SIZE(x) > MAX_LINEAGE) {
        goto fail;
    }
    n = PyList_GET_SIZE(x);
    lineage = PyList_New(n);
    if (lineage == NULL) {
        goto fail;
    }
    for (i = 0; i < n; i++) {
        e = read_record(PyList_GET_ITEM(x, i));
        if (e == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(lineage, i, e);
    }
    PyTuple_SET_ITEM(t, 7, lineage);
    lineage = NULL;

    n = PyList_GET_SIZE(ev);
    incs = PyList_New(n - 1);
    if (incs == NULL) {
        goto fail;
    }
    for (i = 1; i < n; i++) {
        e = read_inclusion(PyList_GET_ITEM(ev, i));
        if (e == NULL) {
            goto fail;
        }
        PyList_SET_ITEM(incs, i - 1, e);
    }
    PyTuple_SET_ITEM(t, 8, incs);
    incs = NULL;

    SET(t, 9, method_address(item(p0, K_verificationMethod), chain_id));
    SET(t, 10, uint_in(item(p0, K_issuedBlock), 0, EXACT_MAX));
    SET(t, 11, hexbytes(item(p0, K_proofValue), -1));
    n = PyList_GET_SIZE(proofs);
    recognitions = PyTuple_New(n - 1);
    if (recognitions == NULL) {
        goto fail;
    }
    PyTuple_SET_ITEM(t, 12, recognitions);
    for (i = 1; i < n; i++) {
        e = PyList_GET_ITEM(proofs, i);
        if (!is_dict_of(e, 6) || !str_equals(item(e, K_proofPurpose), S_recognition) || !is_str(item(e, K_type))
                || !is_str(item(e, K_created)) || (x = PyTuple_New(3)) == NULL) {
            goto fail;
        }
        PyTuple_SET_ITEM(recognitions, i - 1, x);
        SET(x, 0, uint_in(item(e, K_recognizer), 0, 0xFFFF));
        SET(x, 1, method_address(item(e, K_verificationMethod), chain_id));
        SET(x, 2, hexbytes(item(e, K_proofValue), -1));
    }
    return t;
fail:
    Py_XDECREF(lineage);
    Py_XDECREF(incs);
    Py_DECREF(t);
    return NULL;
}

PyDoc_STRVAR(read_doc__doc__,
"read(doc) -> tuple | None\n\n"
"(chainId, registry, issuer, code, validFrom, validUntil, record, lineage, inclusions, key, issuedBlock,\n"
"signature, recognitions) of a certificate of exactly the plain shape; None otherwise. A recognition is\n"
"(recognizer, key, signature); its options hash is left to the caller.");

static PyObject *
py_read(PyObject *self, PyObject *doc)
{
    PyObject *r;
    if (MAX_LINEAGE < 0) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() has not been called");
        return NULL;
    }
    r = read_doc(doc);
    if (r != NULL) {
        return r;
    }
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_MemoryError)) {
            PyErr_Clear();  /* e.g. a dict lookup that failed: the Python readers will say what is wrong */
        } else {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- the members read plain before read() */

static PyObject *ENTRY_TYPE, *PURPOSES;  /* str, tuple of str: configured by configure_status */

PyDoc_STRVAR(status_plain__doc__,
"status_plain(value) -> bool\n\n"
"certificates.document._status_plain: whether a credentialStatus is exactly what the issuer writes (one\n"
"entry per purpose, in order, each of exactly the entry's five members, strings only, a decimal index).");

static PyObject *
py_status_plain(PyObject *self, PyObject *v)
{
    Py_ssize_t i, n, k;
    if (PURPOSES == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure_status() has not been called");
        return NULL;
    }
    if (!PyList_CheckExact(v) || PyList_GET_SIZE(v) != PyTuple_GET_SIZE(PURPOSES)) {
        Py_RETURN_FALSE;
    }
    for (i = 0; i < PyList_GET_SIZE(v); i++) {
        PyObject *e = PyList_GET_ITEM(v, i), *id, *type, *purpose, *index, *url;
        const char *t;
        if (!is_dict_of(e, 5)) {
            Py_RETURN_FALSE;
        }
        id = item(e, K_id);
        type = item(e, K_type);
        purpose = item(e, K_statusPurpose);
        index = item(e, K_statusListIndex);
        url = item(e, K_statusListCredential);
        if (!is_str(id) || !is_str(url) || !str_equals(type, ENTRY_TYPE)
                || !str_equals(purpose, PyTuple_GET_ITEM(PURPOSES, i)) || (t = ascii(index, &n)) == NULL
                || n < 1 || n > 10 || (t[0] == '0' && n != 1)) {
            Py_RETURN_FALSE;
        }
        for (k = 0; k < n; k++) {
            if (t[k] < '0' || t[k] > '9') {
                Py_RETURN_FALSE;
            }
        }
    }
    Py_RETURN_TRUE;
}

PyDoc_STRVAR(configure_status__doc__,
"configure_status(entry_type, purposes, entry_keys): status_list's constants (entry_keys must be the five\n"
"members status_plain knows).");

static PyObject *
py_configure_status(PyObject *self, PyObject *args)
{
    PyObject *et, *pu, *keys, *want = NULL;
    int same;
    if (!PyArg_ParseTuple(args, "UO!O:configure_status", &et, &PyTuple_Type, &pu, &keys)) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(pu); i++) {
        if (!PyUnicode_CheckExact(PyTuple_GET_ITEM(pu, i))) {
            PyErr_SetString(PyExc_TypeError, "purposes must be a tuple of str");
            return NULL;
        }
    }
    want = PyFrozenSet_New(NULL);
    if (want == NULL || PySet_Add(want, K_id) < 0 || PySet_Add(want, K_type) < 0
            || PySet_Add(want, K_statusPurpose) < 0 || PySet_Add(want, K_statusListIndex) < 0
            || PySet_Add(want, K_statusListCredential) < 0) {
        Py_XDECREF(want);
        return NULL;
    }
    same = PyObject_RichCompareBool(want, keys, Py_EQ);
    Py_DECREF(want);
    if (same < 0) {
        return NULL;
    }
    if (!same) {
        PyErr_SetString(PyExc_ValueError, "a status entry's members are not the five status_plain knows");
        return NULL;
    }
    Py_INCREF(et);
    Py_XSETREF(ENTRY_TYPE, et);
    Py_INCREF(pu);
    Py_XSETREF(PURPOSES, pu);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(property_plain__doc__,
"property_plain(value) -> (holder, rights, metadataHash, underDispute) | None\n\n"
"A credentialSubject.property member of the shape most records have (no term, no encumbrances, no\n"
"assessments), read as certificates.property.PropertyState._from_plain_json reads it; None for any other\n"
"value, which that reader then decides.");

static PyObject *
py_property_plain(PyObject *self, PyObject *p)
{
    PyObject *holder = NULL, *rights = NULL, *mh = NULL, *ud, *enc, *as;
    if (!is_dict_of(p, 6)) {
        Py_RETURN_NONE;
    }
    ud = item(p, K_underDispute);
    enc = item(p, K_encumbrances);
    as = item(p, K_assessments);
    if ((ud != Py_True && ud != Py_False) || enc == NULL || !PyList_CheckExact(enc) || PyList_GET_SIZE(enc) != 0
            || as == NULL || !PyList_CheckExact(as) || PyList_GET_SIZE(as) != 0
            || (holder = uint_in(item(p, K_holder), 0, 0xFFFFFFFFLL)) == NULL
            || (rights = uint_in(item(p, K_rights), 1, 7)) == NULL
            || (mh = hexbytes(item(p, K_metadataHash), 32)) == NULL) {
        Py_XDECREF(holder);
        Py_XDECREF(rights);
        if (PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_MemoryError)) {
                return NULL;
            }
            PyErr_Clear();
        }
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(NNNO)", holder, rights, mh, ud);
}

/* ---------------------------------------------------------------- Merkle inclusion (RFC 9162 2.1.3.2) */

static PyObject *SHA256;   /* hashlib.sha256 (OpenSSL's, with the CPU's SHA extensions where it has them) */
static PyObject *S_digest;

/* SHA-256 through the OpenSSL that hashlib already loaded, by its low-level functions (SHA256_Init, _Update,
 * _Final; about 90 ns a Merkle node with the CPU's SHA extensions): a call to hashlib from C costs about 400 ns,
 * and OpenSSL 3's one-shot SHA256() looks the algorithm up on every call (about 340 ns). The library is taken only
 * if already loaded (RTLD_NOLOAD) and checked against known digests; otherwise hashlib is called. The context is
 * OpenSSL's public SHA256_CTX (112 bytes in 1.1 and 3.x), kept in a larger aligned buffer. */
typedef int (*sha_init_fn)(void *);
typedef int (*sha_update_fn)(void *, const void *, size_t);
typedef int (*sha_final_fn)(unsigned char *, void *);
static sha_init_fn SHA_INIT;
static sha_update_fn SHA_UPDATE;
static sha_final_fn SHA_FINAL;
static int USE_OPENSSL = 1;

typedef union {
    unsigned char bytes[512];
    long double align;
} sha_ctx;

static int
openssl_sha256(const unsigned char *data, size_t n, unsigned char out[32])
{
    sha_ctx ctx;
    return SHA_INIT(&ctx) == 1 && SHA_UPDATE(&ctx, data, n) == 1 && SHA_FINAL(out, &ctx) == 1;
}

static void
find_openssl(void)
{
    static const char *names[] = {"libcrypto.so.3", "libcrypto.so.1.1"};
    static const unsigned char abc[32] = {  /* SHA-256("abc"), FIPS 180-2 */
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const unsigned char two[32] = {  /* SHA-256 of the 56-byte message of FIPS 180-2 (two blocks) */
        0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
        0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};
    unsigned char out[32];
    for (size_t i = 0; i < sizeof names / sizeof names[0] && SHA_FINAL == NULL; i++) {
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_NOLOAD);
        if (lib != NULL) {
            SHA_INIT = (sha_init_fn)dlsym(lib, "SHA256_Init");
            SHA_UPDATE = (sha_update_fn)dlsym(lib, "SHA256_Update");
            SHA_FINAL = (sha_final_fn)dlsym(lib, "SHA256_Final");
            if (SHA_INIT == NULL || SHA_UPDATE == NULL) {
                SHA_FINAL = NULL;
            }
        }
    }
    if (SHA_FINAL != NULL
            && (!openssl_sha256((const unsigned char *)"abc", 3, out) || memcmp(out, abc, 32) != 0
                || !openssl_sha256((const unsigned char *)"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                                   56, out)
                || memcmp(out, two, 32) != 0)) {
        SHA_FINAL = NULL;
    }
}

/* SHA-256 of n bytes into out; -1 with an exception set on error. */
static int
sha256_raw(const unsigned char *data, Py_ssize_t n, unsigned char out[32])
{
    PyObject *b, *h, *d;
    if (SHA_FINAL != NULL && USE_OPENSSL) {
        if (openssl_sha256(data, (size_t)n, out)) {
            return 0;
        }
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL's SHA-256 failed");
        return -1;
    }
    b = PyBytes_FromStringAndSize((const char *)data, n);
    if (b == NULL) {
        return -1;
    }
    h = PyObject_CallOneArg(SHA256, b);
    Py_DECREF(b);
    if (h == NULL) {
        return -1;
    }
    d = PyObject_CallMethodNoArgs(h, S_digest);
    Py_DECREF(h);
    if (d == NULL) {
        return -1;
    }
    if (!PyBytes_Check(d) || PyBytes_GET_SIZE(d) != 32) {
        Py_DECREF(d);
        PyErr_SetString(PyExc_RuntimeError, "hashlib.sha256 did not give 32 bytes");
        return -1;
    }
    memcpy(out, PyBytes_AS_STRING(d), 32);
    Py_DECREF(d);
    return 0;
}

/* SHA-256(0x01 || left || right) into out (which may be left or right). */
static int
node_hash(const unsigned char *left, const unsigned char *right, unsigned char out[32])
{
    unsigned char buf[65];
    buf[0] = 1;
    memcpy(buf + 1, left, 32);
    memcpy(buf + 33, right, 32);
    return sha256_raw(buf, 65, out);
}

static int
is_hash(PyObject *o)
{
    return o != NULL && PyBytes_CheckExact(o) && PyBytes_GET_SIZE(o) == 32;
}

PyDoc_STRVAR(inclusion_root__doc__,
"inclusion_root(index, size, leaf, proof) -> bytes | None\n\n"
"The root an inclusion proof gives (merkle.root_from_inclusion), for a leaf and proof elements of 32 bytes\n"
"(bytes) and indexes under 2**63; None where the proof does not fit the tree or anything else is out of that\n"
"range, for the Python code to raise the error that names it.");

/* The root an inclusion proof gives, into out: 1; 0 where the proof does not fit the tree (or the leaf or an
 * element is not 32 bytes); -1 with an exception set on error. */
static int
merkle_root(long long index, long long size, PyObject *leaf, PyObject *proof, unsigned char out[32])
{
    PyObject **items;
    Py_ssize_t i, n;
    if (!(0 <= index && index < size) || !is_hash(leaf) || !(PyTuple_CheckExact(proof) || PyList_CheckExact(proof))) {
        return 0;
    }
    n = PySequence_Fast_GET_SIZE(proof);
    items = PySequence_Fast_ITEMS(proof);
    for (i = 0; i < n; i++) {
        if (!is_hash(items[i])) {
            return 0;
        }
    }
    unsigned long long fn = (unsigned long long)index, sn = (unsigned long long)size - 1;
    memcpy(out, PyBytes_AS_STRING(leaf), 32);
    for (i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(items[i]);
        if (sn == 0) {  /* more elements than the tree needs */
            return 0;
        }
        if ((fn & 1) || fn == sn) {
            if (node_hash(p, out, out) < 0) {
                return -1;
            }
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else if (node_hash(out, p, out) < 0) {
            return -1;
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0;  /* else fewer elements than the tree needs */
}

static PyObject *
py_inclusion_root(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "inclusion_root(index, size, leaf, proof) takes 4 arguments");
        return NULL;
    }
    if (!PyLong_CheckExact(args[0]) || !PyLong_CheckExact(args[1])) {
        Py_RETURN_NONE;
    }
    long long index = PyLong_AsLongLong(args[0]), size = PyLong_AsLongLong(args[1]);
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
            return NULL;
        }
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    unsigned char root[32];
    int ok = merkle_root(index, size, args[2], args[3], root);
    if (ok < 0) {
        return NULL;
    }
    if (ok == 0) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize((const char *)root, 32);
}

/* ---------------------------------------------------------------- the pure checks of a verification */

static int HASHES_CONFIGURED;
static PyObject *ORJSON_DUMPS, *SORT_KEYS, *KW_OPTION;  /* orjson.dumps, OPT_SORT_KEYS, ("option",) */
static unsigned char CERT_TYPEHASH[32];

/* 32 bytes of a hash function's answer into out; -1 with an exception set on error. */
static int
take32(PyObject *h, unsigned char out[32])
{
    if (h == NULL) {
        return -1;
    }
    if (!PyBytes_Check(h) || PyBytes_GET_SIZE(h) != 32) {
        Py_DECREF(h);
        PyErr_SetString(PyExc_RuntimeError, "a hash function did not give 32 bytes");
        return -1;
    }
    memcpy(out, PyBytes_AS_STRING(h), 32);
    Py_DECREF(h);
    return 0;
}

/* Keccak-256 (Ethereum's: the Keccak team's padding 0x01, not FIPS 202's 0x06), FIPS 202 section 3 with the
 * rate of 136 bytes. Written here because a call into safe-pysha3 costs about 0.5 us (an object, a digest, a
 * zeroed state), twice the permutation. configure_hashes() compares it with the Python implementation before the
 * module is used, and tests compare it on random inputs. */
static const uint64_t KECCAK_RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
/* The permutation below is unrolled (so that it is fast at any optimisation level); the rho offsets of lane
 * x + 5y are 0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14. */

static uint64_t
rotl64(uint64_t v, unsigned n)
{
    return n == 0 ? v : (v << n) | (v >> (64 - n));
}

static void
keccak_f1600(uint64_t a[25])
{
    uint64_t b[25], c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    for (int round = 0; round < 24; round++) {
        c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
        c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
        c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
        c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
        c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
        d0 = c4 ^ rotl64(c1, 1);
        d1 = c0 ^ rotl64(c2, 1);
        d2 = c1 ^ rotl64(c3, 1);
        d3 = c2 ^ rotl64(c4, 1);
        d4 = c3 ^ rotl64(c0, 1);
        /* theta applied, rho and pi: lane (x, y) goes to (y, 2x + 3y) */
        b[0] = rotl64(a[0] ^ d0, 0);
        b[10] = rotl64(a[1] ^ d1, 1);
        b[20] = rotl64(a[2] ^ d2, 62);
        b[5] = rotl64(a[3] ^ d3, 28);
        b[15] = rotl64(a[4] ^ d4, 27);
        b[16] = rotl64(a[5] ^ d0, 36);
        b[1] = rotl64(a[6] ^ d1, 44);
        b[11] = rotl64(a[7] ^ d2, 6);
        b[21] = rotl64(a[8] ^ d3, 55);
        b[6] = rotl64(a[9] ^ d4, 20);
        b[7] = rotl64(a[10] ^ d0, 3);
        b[17] = rotl64(a[11] ^ d1, 10);
        b[2] = rotl64(a[12] ^ d2, 43);
        b[12] = rotl64(a[13] ^ d3, 25);
        b[22] = rotl64(a[14] ^ d4, 39);
        b[23] = rotl64(a[15] ^ d0, 41);
        b[8] = rotl64(a[16] ^ d1, 45);
        b[18] = rotl64(a[17] ^ d2, 15);
        b[3] = rotl64(a[18] ^ d3, 21);
        b[13] = rotl64(a[19] ^ d4, 8);
        b[14] = rotl64(a[20] ^ d0, 18);
        b[24] = rotl64(a[21] ^ d1, 2);
        b[9] = rotl64(a[22] ^ d2, 61);
        b[19] = rotl64(a[23] ^ d3, 56);
        b[4] = rotl64(a[24] ^ d4, 14);
        /* chi */
        a[0] = b[0] ^ (~b[1] & b[2]);
        a[1] = b[1] ^ (~b[2] & b[3]);
        a[2] = b[2] ^ (~b[3] & b[4]);
        a[3] = b[3] ^ (~b[4] & b[0]);
        a[4] = b[4] ^ (~b[0] & b[1]);
        a[5] = b[5] ^ (~b[6] & b[7]);
        a[6] = b[6] ^ (~b[7] & b[8]);
        a[7] = b[7] ^ (~b[8] & b[9]);
        a[8] = b[8] ^ (~b[9] & b[5]);
        a[9] = b[9] ^ (~b[5] & b[6]);
        a[10] = b[10] ^ (~b[11] & b[12]);
        a[11] = b[11] ^ (~b[12] & b[13]);
        a[12] = b[12] ^ (~b[13] & b[14]);
        a[13] = b[13] ^ (~b[14] & b[10]);
        a[14] = b[14] ^ (~b[10] & b[11]);
        a[15] = b[15] ^ (~b[16] & b[17]);
        a[16] = b[16] ^ (~b[17] & b[18]);
        a[17] = b[17] ^ (~b[18] & b[19]);
        a[18] = b[18] ^ (~b[19] & b[15]);
        a[19] = b[19] ^ (~b[15] & b[16]);
        a[20] = b[20] ^ (~b[21] & b[22]);
        a[21] = b[21] ^ (~b[22] & b[23]);
        a[22] = b[22] ^ (~b[23] & b[24]);
        a[23] = b[23] ^ (~b[24] & b[20]);
        a[24] = b[24] ^ (~b[20] & b[21]);
        a[0] ^= KECCAK_RC[round];  /* iota */
    }
}

static uint64_t
load64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static void
keccak256_raw(const unsigned char *in, size_t n, unsigned char out[32])
{
    uint64_t a[25] = {0};
    unsigned char last[136];
    int i;
    for (; n >= 136; in += 136, n -= 136) {
        for (i = 0; i < 17; i++) {
            a[i] ^= load64le(in + 8 * i);
        }
        keccak_f1600(a);
    }
    memset(last, 0, sizeof last);
    memcpy(last, in, n);
    last[n] ^= 0x01;
    last[135] ^= 0x80;
    for (i = 0; i < 17; i++) {
        a[i] ^= load64le(last + 8 * i);
    }
    keccak_f1600(a);
    for (i = 0; i < 32; i++) {
        out[i] = (unsigned char)(a[i / 8] >> (8 * (i % 8)));
    }
}

static int
keccak(const unsigned char *data, Py_ssize_t n, unsigned char out[32])
{
    keccak256_raw(data, (size_t)n, out);
    return 0;
}

static int
sha256_of(PyObject *bytes, unsigned char out[32])
{
    return sha256_raw((const unsigned char *)PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes), out);
}

static const unsigned char *
b32(PyObject *o)
{
    return (const unsigned char *)PyBytes_AS_STRING(o);
}

/* The record's checks that need nothing but the record: its id is keccak256(uint256 registrar || contentHash)
 * for a registrar that is an exchange (1..65535), and its fields make leaf (the RFC 6962 leaf hash of
 * uint16 registrar || entry, provenance.core.entries). 1 if they hold, 0 if not, -1 on error. */
static int
record_facts(PyObject *rec, unsigned char leaf[32])
{
    unsigned char idbuf[64], h[32], *buf;
    PyObject *parents = PyTuple_GET_ITEM(rec, 10), *data;
    long registrar = PyLong_AsLong(PyTuple_GET_ITEM(rec, 1));
    long kind = PyLong_AsLong(PyTuple_GET_ITEM(rec, 3)), grade = PyLong_AsLong(PyTuple_GET_ITEM(rec, 4));
    long source = PyLong_AsLong(PyTuple_GET_ITEM(rec, 5)), rights = PyLong_AsLong(PyTuple_GET_ITEM(rec, 6));
    unsigned long long owner = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(rec, 2));
    Py_ssize_t i, np = PyTuple_GET_SIZE(parents);
    if (PyErr_Occurred()) {
        return -1;
    }
    if (registrar < 1 || registrar > 0xFFFF || kind < 0 || kind > 255 || grade < 0 || grade > 255 || source < 0
            || source > 255 || rights < 0 || rights > 255 || owner > 0xFFFFFFFFULL || np > 255) {
        return 0;
    }
    memset(idbuf, 0, 30);
    idbuf[30] = (unsigned char)(registrar >> 8);
    idbuf[31] = (unsigned char)registrar;
    memcpy(idbuf + 32, b32(PyTuple_GET_ITEM(rec, 7)), 32);
    if (keccak(idbuf, 64, h) < 0) {
        return -1;
    }
    if (memcmp(h, b32(PyTuple_GET_ITEM(rec, 0)), 32) != 0) {
        return 0;
    }
    data = PyBytes_FromStringAndSize(NULL, 1 + 2 + 8 + 96 + 1 + 32 * np);
    if (data == NULL) {
        return -1;
    }
    buf = (unsigned char *)PyBytes_AS_STRING(data);
    buf[0] = 0;
    buf[1] = (unsigned char)(registrar >> 8);
    buf[2] = (unsigned char)registrar;
    buf[3] = (unsigned char)kind;
    buf[4] = (unsigned char)grade;
    buf[5] = (unsigned char)source;
    buf[6] = (unsigned char)rights;
    buf[7] = (unsigned char)(owner >> 24);
    buf[8] = (unsigned char)(owner >> 16);
    buf[9] = (unsigned char)(owner >> 8);
    buf[10] = (unsigned char)owner;
    memcpy(buf + 11, b32(PyTuple_GET_ITEM(rec, 7)), 32);
    memcpy(buf + 43, b32(PyTuple_GET_ITEM(rec, 8)), 32);
    memcpy(buf + 75, b32(PyTuple_GET_ITEM(rec, 9)), 32);
    buf[107] = (unsigned char)np;
    for (i = 0; i < np; i++) {
        memcpy(buf + 108 + 32 * i, b32(PyTuple_GET_ITEM(parents, i)), 32);
    }
    i = sha256_of(data, leaf);
    Py_DECREF(data);
    return i < 0 ? -1 : 1;
}

/* The inclusion evidence inc shows the record (registrar, leaf): 1, 0 or -1. */
static int
included(PyObject *inc, long registrar, const unsigned char leaf[32])
{
    PyObject *lh = PyTuple_GET_ITEM(inc, 3), *root = PyTuple_GET_ITEM(inc, 5);
    int overflow = 0, ok;
    long exchange = PyLong_AsLong(PyTuple_GET_ITEM(inc, 1));
    long long index = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(inc, 2), &overflow);
    long long size = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(inc, 4), &overflow);
    if (PyErr_Occurred()) {
        return -1;
    }
    if (overflow || exchange != registrar || !is_hash(lh) || !is_hash(root) || memcmp(b32(lh), leaf, 32) != 0) {
        return 0;
    }
    unsigned char computed[32];
    ok = merkle_root(index, size, lh, PyTuple_GET_ITEM(inc, 6), computed);  /* lh equals leaf, checked above */
    if (ok != 1) {
        return ok;
    }
    return memcmp(computed, b32(root), 32) == 0;
}

/* SHA-256 of the canonical JSON (orjson, sorted keys) of the document with only the issuer's proof options. */
/* 1 if every object in v has exact-str ASCII member names in strictly increasing byte order (RFC 8785's order for
 * ASCII names), so that orjson writes v as it stands exactly as it writes it with OPT_SORT_KEYS; 0 otherwise (or
 * deeper than a certificate nests), and then the caller has orjson sort. Documents this node issues are written
 * in that order: orjson's sorting costs more than writing the document. */
static int
in_canonical_order(PyObject *v, int depth)
{
    if (depth > 32) {
        return 0;
    }
    if (PyDict_CheckExact(v)) {
        Py_ssize_t pos = 0, prev_len = -1;
        const char *prev = NULL;
        PyObject *key, *value;
        while (PyDict_Next(v, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key) || !PyUnicode_IS_COMPACT_ASCII(key)) {
                return 0;
            }
            const char *name = (const char *)PyUnicode_DATA(key);
            Py_ssize_t len = PyUnicode_GET_LENGTH(key);
            if (prev != NULL) {
                int c = memcmp(prev, name, (size_t)(prev_len < len ? prev_len : len));
                if (c > 0 || (c == 0 && prev_len >= len)) {
                    return 0;
                }
            }
            prev = name;
            prev_len = len;
            if ((PyDict_CheckExact(value) || PyList_CheckExact(value)) && !in_canonical_order(value, depth + 1)) {
                return 0;
            }
        }
        return 1;
    }
    if (PyList_CheckExact(v)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++) {
            PyObject *e = PyList_GET_ITEM(v, i);
            if ((PyDict_CheckExact(e) || PyList_CheckExact(e)) && !in_canonical_order(e, depth + 1)) {
                return 0;
            }
        }
        return 1;
    }
    return 1;
}

static int
credential_hash(PyObject *doc, unsigned char out[32])
{
    PyObject *options = NULL, *copy = NULL, *proofs = NULL, *json = NULL, *args[2];
    int rc = -1;
    options = PyDict_Copy(PyList_GET_ITEM(item(doc, K_proof), 0));
    copy = PyDict_Copy(doc);
    proofs = PyList_New(1);
    if (options == NULL || copy == NULL || proofs == NULL || PyDict_DelItem(options, K_proofValue) < 0) {
        goto done;
    }
    Py_INCREF(options);
    PyList_SET_ITEM(proofs, 0, options);
    if (PyDict_SetItem(copy, K_proof, proofs) < 0) {
        goto done;
    }
    args[0] = copy;
    args[1] = SORT_KEYS;
    json = in_canonical_order(copy, 0) ? PyObject_Vectorcall(ORJSON_DUMPS, args, 1, NULL)
                                       : PyObject_Vectorcall(ORJSON_DUMPS, args, 1, KW_OPTION);
    if (json == NULL) {
        goto done;
    }
    rc = sha256_of(json, out);
done:
    Py_XDECREF(options);
    Py_XDECREF(copy);
    Py_XDECREF(proofs);
    Py_XDECREF(json);
    return rc;
}

/* Every check of a certificate that needs nothing but the document: 1 if all hold (leaves filled, one per
 * record, the subject first), 0 if one does not, -1 on error. */
static int
pure_checks(PyObject *t, PyObject *leaves, PyObject **subject, PyObject **checkpoints)
{
    PyObject *rec = PyTuple_GET_ITEM(t, 6), *lineage = PyTuple_GET_ITEM(t, 7), *incs = PyTuple_GET_ITEM(t, 8);
    PyObject *by_id = NULL, *evidence = NULL, *seen = NULL, *frontier = NULL, *r, *inc, *pid, *anc;
    Py_ssize_t i, j, n = PyList_GET_SIZE(lineage);
    unsigned char leaf[32];
    int rc = -1, ok;
    long registrar;

    by_id = PyDict_New();
    evidence = PyDict_New();
    seen = PySet_New(NULL);
    frontier = PyList_New(0);
    if (by_id == NULL || evidence == NULL || seen == NULL || frontier == NULL) {
        goto done;
    }
    /* the subject's registrar is the issuer */
    if (PyObject_RichCompareBool(PyTuple_GET_ITEM(rec, 1), PyTuple_GET_ITEM(t, 2), Py_EQ) != 1) {
        rc = PyErr_Occurred() ? -1 : 0;
        goto done;
    }
    /* ancestors listed once each, none the subject */
    for (i = 0; i < n; i++) {
        r = PyList_GET_ITEM(lineage, i);
        if (PyDict_Contains(by_id, PyTuple_GET_ITEM(r, 0)) != 0
                || PyObject_RichCompareBool(PyTuple_GET_ITEM(r, 0), PyTuple_GET_ITEM(rec, 0), Py_EQ) != 0
                || PyDict_SetItem(by_id, PyTuple_GET_ITEM(r, 0), r) < 0) {
            rc = PyErr_Occurred() ? -1 : 0;
            goto done;
        }
    }
    /* the lineage is exactly the subject's ancestors */
    for (j = 0; j < PyTuple_GET_SIZE(PyTuple_GET_ITEM(rec, 10)); j++) {
        if (PyList_Append(frontier, PyTuple_GET_ITEM(PyTuple_GET_ITEM(rec, 10), j)) < 0) {
            goto done;
        }
    }
    while (PyList_GET_SIZE(frontier) > 0) {
        Py_ssize_t last = PyList_GET_SIZE(frontier) - 1;
        pid = PyList_GET_ITEM(frontier, last);
        Py_INCREF(pid);
        if (PyList_SetSlice(frontier, last, last + 1, NULL) < 0) {
            Py_DECREF(pid);
            goto done;
        }
        ok = PySet_Contains(seen, pid);
        if (ok != 0 || PySet_Add(seen, pid) < 0) {
            Py_DECREF(pid);
            if (ok < 0 || PyErr_Occurred()) {
                goto done;
            }
            continue;
        }
        anc = PyDict_GetItemWithError(by_id, pid);
        Py_DECREF(pid);
        if (anc == NULL) {  /* a missing ancestor */
            rc = PyErr_Occurred() ? -1 : 0;
            goto done;
        }
        for (j = 0; j < PyTuple_GET_SIZE(PyTuple_GET_ITEM(anc, 10)); j++) {
            if (PyList_Append(frontier, PyTuple_GET_ITEM(PyTuple_GET_ITEM(anc, 10), j)) < 0) {
                goto done;
            }
        }
    }
    if (PySet_GET_SIZE(seen) != PyDict_GET_SIZE(by_id)) {  /* listed ancestors outside the lineage */
        rc = 0;
        goto done;
    }
    /* inclusion evidence for exactly the subject and its ancestors, once each */
    for (i = 0; i < PyList_GET_SIZE(incs); i++) {
        inc = PyList_GET_ITEM(incs, i);
        if (PyDict_Contains(evidence, PyTuple_GET_ITEM(inc, 0)) != 0
                || PyDict_SetItem(evidence, PyTuple_GET_ITEM(inc, 0), inc) < 0) {
            rc = PyErr_Occurred() ? -1 : 0;
            goto done;
        }
    }
    if (PyDict_GET_SIZE(evidence) != 1 + n) {
        rc = 0;
        goto done;
    }
    /* each record: id, leaf, included under its own evidence */
    for (i = -1; i < n; i++) {
        r = i < 0 ? rec : PyList_GET_ITEM(lineage, i);
        ok = record_facts(r, leaf);
        if (ok != 1) {
            rc = ok;
            goto done;
        }
        inc = PyDict_GetItemWithError(evidence, PyTuple_GET_ITEM(r, 0));
        if (inc == NULL) {
            rc = PyErr_Occurred() ? -1 : 0;
            goto done;
        }
        registrar = PyLong_AsLong(PyTuple_GET_ITEM(r, 1));
        ok = included(inc, registrar, leaf);
        if (ok != 1) {
            rc = ok;
            goto done;
        }
        PyObject *lb = PyBytes_FromStringAndSize((const char *)leaf, 32);
        if (lb == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(leaves, i + 1, lb);
    }
    /* the subject's inclusion, and each distinct checkpoint (exchange, size, root, signature, cosignatures) */
    *subject = PyDict_GetItemWithError(evidence, PyTuple_GET_ITEM(rec, 0));
    *checkpoints = PySet_New(NULL);
    if (*subject == NULL || *checkpoints == NULL) {
        goto done;
    }
    Py_INCREF(*subject);
    for (i = 0; i < PyList_GET_SIZE(incs); i++) {
        inc = PyList_GET_ITEM(incs, i);
        PyObject *cp = PyTuple_Pack(5, PyTuple_GET_ITEM(inc, 1), PyTuple_GET_ITEM(inc, 4), PyTuple_GET_ITEM(inc, 5),
                                    PyTuple_GET_ITEM(inc, 9), PyTuple_GET_ITEM(inc, 10));
        if (cp == NULL || PySet_Add(*checkpoints, cp) < 0) {
            Py_XDECREF(cp);
            goto done;
        }
        Py_DECREF(cp);
    }
    rc = 1;
done:
    if (rc != 1) {
        Py_CLEAR(*subject);
        Py_CLEAR(*checkpoints);
    }
    Py_XDECREF(by_id);
    Py_XDECREF(evidence);
    Py_XDECREF(seen);
    Py_XDECREF(frontier);
    return rc;
}

/* ---------------------------------------------------------------- dates */

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (exactly what certificates._iso writes, a real date and time) as seconds since 1970:
 * 1, or 0 if it is not one (certificates._iso_seconds decides the same; a test compares them). */
static int
iso_seconds(PyObject *s, long long *out)
{
    static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    Py_ssize_t n = 0, i;
    const char *t = ascii(s, &n);
    int v[20];
    if (t == NULL || n != 20) {
        return 0;
    }
    for (i = 0; i < 20; i++) {
        if (form[i] == 'd') {
            if (t[i] < '0' || t[i] > '9') {
                return 0;
            }
            v[i] = t[i] - '0';
        } else if (t[i] != form[i]) {
            return 0;
        }
    }
    long long year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    unsigned month = (unsigned)(v[5] * 10 + v[6]), day = (unsigned)(v[8] * 10 + v[9]);
    int hour = v[11] * 10 + v[12], minute = v[14] * 10 + v[15], second = v[17] * 10 + v[18];
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1 || month < 1 || month > 12 || day < 1
            || day > (unsigned)(mdays[month - 1] + (month == 2 && leap)) || hour > 23 || minute > 59 || second > 59) {
        return 0;
    }
    *out = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return 1;
}

static PyObject *
py_iso_seconds(PyObject *self, PyObject *arg)
{
    long long t;
    if (!iso_seconds(arg, &t)) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLongLong(t);
}

PyDoc_STRVAR(verify_core__doc__,
"verify_core(doc, domain_separator) -> tuple | None\n\n"
"(content, credentialHash, digest, leaves, validFrom, validUntil, subjectInclusion, checkpoints) where every\n"
"check that needs nothing but the document holds (the dates as seconds since 1970; the checkpoints a set of\n"
"(exchange, treeSize, root, signature, cosignatures)):\n"
"content as read() gives it; the credential hash; the EIP-712 digest the issuer signed, under the given\n"
"domain separator; the leaf hash of each record (the subject first, then the lineage). None where the document\n"
"is not of the plain shape or any of those checks fails: the Python verifier then runs and names what failed.");

static PyObject *
py_verify_core(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *t = NULL, *leaves = NULL, *out = NULL, *subject = NULL, *checkpoints = NULL, *doc, *domain;
    unsigned char cred[32], words[128], pre[66], digest[32];
    long long issuer, block, valid_from, valid_until;
    int ok;
    if (nargs != 2 || !PyBytes_Check(args[1]) || PyBytes_GET_SIZE(args[1]) != 32) {
        PyErr_SetString(PyExc_TypeError, "verify_core(doc, domain_separator: 32 bytes)");
        return NULL;
    }
    if (!HASHES_CONFIGURED) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure_hashes() has not been called");
        return NULL;
    }
    doc = args[0];
    domain = args[1];
    t = read_doc(doc);
    if (t == NULL) {
        goto none;
    }
    leaves = PyTuple_New(1 + PyList_GET_SIZE(PyTuple_GET_ITEM(t, 7)));
    if (leaves == NULL) {
        goto error;
    }
    ok = pure_checks(t, leaves, &subject, &checkpoints);
    if (ok < 0) {
        goto error;
    }
    if (ok == 0) {
        goto none;
    }
    if (credential_hash(doc, cred) < 0) {
        goto error;
    }
    issuer = PyLong_AsLongLong(PyTuple_GET_ITEM(t, 2));
    block = PyLong_AsLongLong(PyTuple_GET_ITEM(t, 10));
    if (PyErr_Occurred()) {
        goto error;
    }
    /* Certificate(bytes32 credentialHash, uint16 issuer, uint64 issuedBlock) */
    memcpy(words, CERT_TYPEHASH, 32);
    memcpy(words + 32, cred, 32);
    memset(words + 64, 0, 64);
    for (int k = 0; k < 8; k++) {
        words[95 - k] = (unsigned char)((unsigned long long)issuer >> (8 * k));
        words[127 - k] = (unsigned char)((unsigned long long)block >> (8 * k));
    }
    pre[0] = 0x19;
    pre[1] = 0x01;
    memcpy(pre + 2, PyBytes_AS_STRING(domain), 32);
    if (keccak(words, 128, pre + 34) < 0 || keccak(pre, 66, digest) < 0) {
        goto error;
    }
    if (!iso_seconds(PyTuple_GET_ITEM(t, 4), &valid_from) || !iso_seconds(PyTuple_GET_ITEM(t, 5), &valid_until)) {
        goto none;
    }
    out = Py_BuildValue("(Ny#y#NLLNN)", t, (const char *)cred, (Py_ssize_t)32, (const char *)digest,
                        (Py_ssize_t)32, leaves, valid_from, valid_until, subject, checkpoints);
    return out;  /* Py_BuildValue's N took t, leaves, subject and checkpoints (and released them if it failed) */
none:
    Py_XDECREF(t);
    Py_XDECREF(leaves);
    Py_XDECREF(subject);
    Py_XDECREF(checkpoints);
    if (PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) {
            return NULL;
        }
        PyErr_Clear();  /* e.g. text orjson will not write: the Python verifier names it */
    }
    Py_RETURN_NONE;
error:
    Py_XDECREF(t);
    Py_XDECREF(leaves);
    Py_XDECREF(subject);
    Py_XDECREF(checkpoints);
    if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_MemoryError)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return NULL;
}

PyDoc_STRVAR(configure__doc__,
"configure(contexts, types, proof_type, eip712_primary, eip712_types, kind, grade, source, status, max_lineage)");

static PyObject *
py_configure(PyObject *self, PyObject *args)
{
    PyObject *c, *ty, *pt, *ep, *et, *k, *g, *so, *st;
    Py_ssize_t ml;
    if (!PyArg_ParseTuple(args, "O!O!UUUO!O!O!O!n:configure", &PyList_Type, &c, &PyList_Type, &ty, &pt, &ep, &et,
                          &PyDict_Type, &k, &PyDict_Type, &g, &PyDict_Type, &so, &PyDict_Type, &st, &ml)) {
        return NULL;
    }
    /* Private copies, so that nothing outside can change what this reader compares with. */
    PyObject *objs[] = {PyList_GetSlice(c, 0, PY_SSIZE_T_MAX), PyList_GetSlice(ty, 0, PY_SSIZE_T_MAX),
                        PyDict_Copy(k), PyDict_Copy(g), PyDict_Copy(so), PyDict_Copy(st)};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) {
        if (objs[i] == NULL) {
            for (size_t j = 0; j < sizeof objs / sizeof objs[0]; j++) {
                Py_XDECREF(objs[j]);
            }
            return NULL;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objs[0]); i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(objs[0], i))) goto bad;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objs[1]); i++) {
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(objs[1], i))) goto bad;
    }
    Py_XSETREF(CONTEXTS, objs[0]);
    Py_XSETREF(TYPES, objs[1]);
    Py_XSETREF(KIND, objs[2]);
    Py_XSETREF(GRADE, objs[3]);
    Py_XSETREF(SOURCE, objs[4]);
    Py_XSETREF(STATUS, objs[5]);
    Py_INCREF(pt);
    Py_XSETREF(PROOF_TYPE, pt);
    Py_INCREF(ep);
    Py_XSETREF(EIP712_PRIMARY, ep);
    Py_INCREF(et);
    Py_XSETREF(EIP712_TYPES, et);
    MAX_LINEAGE = ml;
    Py_RETURN_NONE;
bad:
    for (size_t j = 0; j < sizeof objs / sizeof objs[0]; j++) {
        Py_DECREF(objs[j]);
    }
    PyErr_SetString(PyExc_TypeError, "contexts and types must be lists of str");
    return NULL;
}

PyDoc_STRVAR(configure_hashes__doc__,
"configure_hashes(keccak256, certificate_type)\n\n"
"Checks the compiled Keccak-256 against keccak256 (bytes -> 32 bytes) on inputs of every length up to three\n"
"blocks, raising RuntimeError if they differ, and takes the Certificate type string for verify_core.");

static PyObject *
py_configure_hashes(PyObject *self, PyObject *args)
{
    PyObject *fn, *b, *h;
    const char *type;
    Py_ssize_t typelen;
    unsigned char data[3 * 136 + 1], mine[32], theirs[32];
    if (!PyArg_ParseTuple(args, "Os#:configure_hashes", &fn, &type, &typelen)) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (unsigned char)(i * 131 + 7);
    }
    for (Py_ssize_t n = 0; n <= (Py_ssize_t)sizeof data; n++) {
        b = PyBytes_FromStringAndSize((const char *)data, n);
        if (b == NULL) {
            return NULL;
        }
        h = PyObject_CallOneArg(fn, b);
        Py_DECREF(b);
        if (take32(h, theirs) < 0) {
            return NULL;
        }
        keccak256_raw(data, (size_t)n, mine);
        if (memcmp(mine, theirs, 32) != 0) {
            PyErr_Format(PyExc_RuntimeError, "the compiled Keccak-256 differs from keccak256 on %zd bytes", n);
            return NULL;
        }
    }
    keccak256_raw((const unsigned char *)type, (size_t)typelen, CERT_TYPEHASH);
    HASHES_CONFIGURED = 1;
    Py_RETURN_NONE;
}

static PyObject *
py_keccak256(PyObject *self, PyObject *arg)
{
    unsigned char out[32];
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "keccak256(data: bytes)");
        return NULL;
    }
    keccak256_raw((const unsigned char *)PyBytes_AS_STRING(arg), (size_t)PyBytes_GET_SIZE(arg), out);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

static PyObject *
py_sha256(PyObject *self, PyObject *arg)
{
    unsigned char out[32];
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "sha256(data: bytes)");
        return NULL;
    }
    if (sha256_of(arg, out) < 0) {
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

static PyObject *
py_use_openssl(PyObject *self, PyObject *arg)
{
    int flag = PyObject_IsTrue(arg);
    if (flag < 0) {
        return NULL;
    }
    USE_OPENSSL = flag;
    return PyBool_FromLong(SHA_FINAL != NULL && USE_OPENSSL);
}

static PyMethodDef methods[] = {
    {"read", py_read, METH_O, read_doc__doc__},
    {"configure", py_configure, METH_VARARGS, configure__doc__},
    {"configure_status", py_configure_status, METH_VARARGS, configure_status__doc__},
    {"status_plain", py_status_plain, METH_O, status_plain__doc__},
    {"property_plain", py_property_plain, METH_O, property_plain__doc__},
    {"configure_hashes", py_configure_hashes, METH_VARARGS, configure_hashes__doc__},
    {"inclusion_root", (PyCFunction)(void (*)(void))py_inclusion_root, METH_FASTCALL, inclusion_root__doc__},
    {"verify_core", (PyCFunction)(void (*)(void))py_verify_core, METH_FASTCALL, verify_core__doc__},
    {"sha256", py_sha256, METH_O, "SHA-256 as the compiled checks compute it (for tests)."},
    {"keccak256", py_keccak256, METH_O, "Keccak-256 as the compiled checks compute it (for tests)."},
    {"iso_seconds", py_iso_seconds, METH_O, "A date as the compiled checks read it, or None (for tests)."},
    {"use_openssl", py_use_openssl, METH_O,
     "use_openssl(flag) -> bool: hash through OpenSSL directly (if found) or through hashlib (for tests)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_speedups",
    "Compiled fast paths of certificate verification (see _speedups.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
#define INTERN(var, text) if ((K_##var = PyUnicode_InternFromString(text)) == NULL) return NULL;
    KEYS(INTERN)
#undef INTERN
    if ((S_inclusion = PyUnicode_InternFromString("TransparencyLogInclusion")) == NULL
            || (S_binding = PyUnicode_InternFromString("RegistryBinding")) == NULL
            || (S_assertion = PyUnicode_InternFromString("assertionMethod")) == NULL
            || (S_recognition = PyUnicode_InternFromString("recognition")) == NULL) {
        return NULL;
    }
    if ((S_digest = PyUnicode_InternFromString("digest")) == NULL) {
        return NULL;
    }
    PyObject *hashlib = PyImport_ImportModule("hashlib");
    if (hashlib == NULL) {
        return NULL;
    }
    SHA256 = PyObject_GetAttrString(hashlib, "sha256");
    Py_DECREF(hashlib);
    if (SHA256 == NULL) {
        return NULL;
    }
    fill_hexval();
    find_openssl();
    PyObject *orjson = PyImport_ImportModule("orjson");
    if (orjson == NULL) {
        return NULL;
    }
    ORJSON_DUMPS = PyObject_GetAttrString(orjson, "dumps");
    SORT_KEYS = PyObject_GetAttrString(orjson, "OPT_SORT_KEYS");
    Py_DECREF(orjson);
    /* interned: orjson matches keyword names by identity */
    PyObject *option = PyUnicode_InternFromString("option");
    KW_OPTION = option == NULL ? NULL : PyTuple_Pack(1, option);
    Py_XDECREF(option);
    if (ORJSON_DUMPS == NULL || SORT_KEYS == NULL || KW_OPTION == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL || PyModule_AddIntConstant(m, "TAKES_CREDENTIAL_STATUS", 1) < 0
            || PyModule_AddIntConstant(m, "TAKES_PROPERTY", 1) < 0) {
        Py_XDECREF(m);
        return NULL;
    }
    return m;
}
