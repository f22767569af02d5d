/* Compiled fast paths of certificate verification: a reader for certificates of exactly the shape
 * provenance.core.certificates writes, and the loop of a Merkle inclusion proof.
 *
 * read(doc) takes a decoded JSON document (dicts, lists, str, int, bool) and returns its content as plain
 * tuples, or None. It returns a result only for documents that the Python plain reader
 * (certificates._parse_plain) accepts, and then exactly the values that reader reads; for anything else
 * (another shape, a subclass of a JSON type, a value out of range) it returns None and the Python readers decide, naming what is wrong. A differential
 * test holds the two together over every single-value change of a certificate.
 *
 * inclusion_root(index, size, leaf, proof) is merkle.root_from_inclusion's loop, for the common case.
 *
 * It runs no Python code while it walks the document (only dict lookups with exact str keys, type checks and
 * comparisons of exact str), so the borrowed references it holds stay valid. No I/O.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
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
    X(signature, "signature") X(recognizer, "recognizer")

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

static int
hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
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
        int hi = hexval((unsigned char)t[2 + 2 * i]), lo = hexval((unsigned char)t[3 + 2 * i]);
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
    if (!is_dict_of(doc, 9) || !list_equals(item(doc, K_ctx), CONTEXTS) || !list_equals(item(doc, K_type), TYPES)
            || !is_str(item(doc, K_id))) {
        return NULL;
    }
    issuer = item(doc, K_issuer);
    if (!is_dict_of(issuer, 4) || !is_str(item(issuer, K_id)) || !is_str(item(issuer, K_name))) {
        return NULL;
    }
    subject = item(doc, K_credentialSubject);
    if (!is_dict_of(subject, 3) || !is_str(item(subject, K_id))) {
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

/* ---------------------------------------------------------------- Merkle inclusion (RFC 9162 2.1.3.2) */

static PyObject *SHA256;   /* hashlib.sha256 (OpenSSL's, with the CPU's SHA extensions where it has them) */
static PyObject *S_digest;

/* SHA-256(0x01 || left || right), as new bytes. */
static PyObject *
node_hash(PyObject *left, PyObject *right)
{
    PyObject *buf = PyBytes_FromStringAndSize(NULL, 65), *h, *out;
    if (buf == NULL) {
        return NULL;
    }
    char *b = PyBytes_AS_STRING(buf);
    b[0] = 1;
    memcpy(b + 1, PyBytes_AS_STRING(left), 32);
    memcpy(b + 33, PyBytes_AS_STRING(right), 32);
    h = PyObject_CallOneArg(SHA256, buf);
    Py_DECREF(buf);
    if (h == NULL) {
        return NULL;
    }
    out = PyObject_CallMethodNoArgs(h, S_digest);
    Py_DECREF(h);
    if (out != NULL && (!PyBytes_CheckExact(out) || PyBytes_GET_SIZE(out) != 32)) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_RuntimeError, "hashlib.sha256 did not give 32 bytes");
        return NULL;
    }
    return out;
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

static PyObject *
py_inclusion_root(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *leaf, *proof, *r, *next, *p;
    Py_ssize_t i, n;
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
    leaf = args[2];
    proof = args[3];
    if (!(0 <= index && index < size) || !is_hash(leaf) || !(PyTuple_CheckExact(proof) || PyList_CheckExact(proof))) {
        Py_RETURN_NONE;
    }
    /* A list's items are read as the loop goes; hashing runs no code that could change a list of exact bytes
     * (hashlib's sha256 takes the buffer), but the tuple case holds its items anyway. */
    n = PySequence_Fast_GET_SIZE(proof);
    PyObject **items = PySequence_Fast_ITEMS(proof);
    for (i = 0; i < n; i++) {
        if (!is_hash(items[i])) {
            Py_RETURN_NONE;
        }
    }
    unsigned long long fn = (unsigned long long)index, sn = (unsigned long long)size - 1;
    Py_INCREF(leaf);
    r = leaf;
    for (i = 0; i < n; i++) {
        p = items[i];
        if (sn == 0) {  /* more elements than the tree needs */
            Py_DECREF(r);
            Py_RETURN_NONE;
        }
        if ((fn & 1) || fn == sn) {
            next = node_hash(p, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            next = node_hash(r, p);
        }
        Py_DECREF(r);
        if (next == NULL) {
            return NULL;
        }
        r = next;
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {  /* fewer elements than the tree needs */
        Py_DECREF(r);
        Py_RETURN_NONE;
    }
    return r;
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

static PyMethodDef methods[] = {
    {"read", py_read, METH_O, read_doc__doc__},
    {"configure", py_configure, METH_VARARGS, configure__doc__},
    {"inclusion_root", (PyCFunction)(void (*)(void))py_inclusion_root, METH_FASTCALL, inclusion_root__doc__},
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
    return PyModule_Create(&module);
}
