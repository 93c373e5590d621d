#!/usr/bin/env python3
"""Regenerates vectors.json: password hashes made by real tools, each with
the exact command or Python expression that made it.

Tools: htpasswd (apache2-utils), argon2 (the reference CLI), openssl 3 (with
the legacy provider for MD4, RIPEMD-160 and Whirlpool), libxcrypt through
Python's crypt module, and Python's hashlib, hmac and base64. passlib, Django and Werkzeug are not installed: their
formats are rebuilt here from hashlib output exactly as their published
source writes them.

    apt-get install -y apache2-utils argon2
    python3 testdata/make_vectors.py > testdata/vectors.json

CLI tools pick random salts, so each run gives different (equally valid)
vectors.
"""

import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import base64
import crypt  # libxcrypt, through Python 3.11's (deprecated) crypt module
import hashlib
import hmac
import json
import subprocess
import sys

vectors = []


def sh(cmd):
    """Runs a shell command and returns its stdout, stripped."""
    return subprocess.run(["bash", "-c", cmd], check=True, capture_output=True, text=True).stdout.strip()


def py(expr):
    """Evaluates a Python expression (the recorded command) and returns it."""
    return eval(expr, {"hashlib": hashlib, "hmac": hmac, "base64": base64, "b64": b64, "ab64": ab64, "crypt": crypt, "phpass": phpass})


def b64(b, pad=True):
    s = base64.b64encode(b).decode()
    return s if pad else s.rstrip("=")


def ab64(b):
    """passlib's adapted base64: '.' for '+', no padding."""
    return b64(b, pad=False).replace("+", ".")


def add(name, cmd, password, family, importable, *, hash=None, algorithm="", salt="", salt_position="",
        encoding="", custom=None, password_hash=None, format=None, warnings=(), also_matches=(), wrong=None):
    v = {"name": name, "cmd": cmd, "password": password, "family": family, "importable": importable}
    if hash is not None:
        v["input"] = {k: val for k, val in dict(hash=hash, algorithm=algorithm, salt=salt,
                                                 salt_position=salt_position, encoding=encoding).items() if val}
    if custom is not None:
        v["custom"] = custom
    if password_hash is not None:
        v["password_hash"] = password_hash
    if format:
        v["format"] = format
    if warnings:
        v["warnings"] = list(warnings)
    if also_matches:
        v["also_matches"] = list(also_matches)
    v["wrong"] = wrong if wrong is not None else [password + "x", password[:-1], password.upper() if password.upper() != password else password.lower()]
    vectors.append(v)


def cli(name, cmd, password, family, importable, strip_user=False, **kw):
    out = sh(cmd)
    if strip_user:
        out = out.split(":", 1)[1]
    add(name, cmd, password, family, importable, hash=out, **kw)


def expr(name, e, password, family, importable, **kw):
    add(name, "python3: " + e, password, family, importable, hash=py(e), **kw)


ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def phpass(password, salt, cost="B"):
    """phpass portable hash, as PasswordHash.php's crypt_private writes it."""
    h = hashlib.md5(salt.encode() + password).digest()
    for _ in range(1 << ITOA64.index(cost)):
        h = hashlib.md5(h + password).digest()
    out, i = "", 0
    while i < 16:  # PasswordHash.php encode64
        value = h[i]; i += 1
        out += ITOA64[value & 0x3F]
        if i < 16: value |= h[i] << 8
        out += ITOA64[(value >> 6) & 0x3F]
        if i >= 16: break
        i += 1
        if i < 16: value |= h[i] << 16
        out += ITOA64[(value >> 12) & 0x3F]
        if i >= 16: break
        i += 1
        out += ITOA64[(value >> 18) & 0x3F]
    return "$P$" + cost + salt + out


PW = "correct horse battery staple"
UNI = "pässwörd ✓ 密码"

# --- bcrypt -----------------------------------------------------------------
cli("htpasswd bcrypt $2y$ cost 10", f"htpasswd -nbB -C 10 u '{PW}'", PW, "bcrypt", True, strip_user=True, format="bcrypt")
cli("htpasswd bcrypt $2y$ cost 5", "htpasswd -nbB -C 5 u 'hunter2'", "hunter2", "bcrypt", True, strip_user=True)
expr("libxcrypt bcrypt $2b$ cost 10 (Auth0's password_hash)", f"crypt.crypt({PW!r}, '$2b$10$' + 'CorrectHorseBatteryStu')", PW, "bcrypt", True)
expr("libxcrypt bcrypt $2b$ cost 11", "crypt.crypt('hunter2', '$2b$11$' + 'abcdefghijklmnopqrstuu')", "hunter2", "bcrypt", True)
cli("htpasswd bcrypt $2y$ rewritten $2b$ cost 10 (same algorithm)",
    f"htpasswd -nbB -C 10 u '{UNI}' | sed 's/^u:\\$2y\\$/$2b$/'", UNI, "bcrypt", True)
long_pw = "L" * 70 + "ongpassword"  # 81 bytes: bcrypt reads 72
cli("htpasswd bcrypt of an 81-byte password (truncated at 72)", f"htpasswd -nbB -C 4 u '{long_pw}'", long_pw, "bcrypt", True,
    strip_user=True, also_matches=[long_pw[:72], long_pw[:72] + "different tail"], wrong=[long_pw[:71]])
cli("htpasswd bcrypt of salt+password, salt in password_salt", f"htpasswd -nbB -C 4 u 'NaCl-1234{PW}'", PW, "bcrypt", True,
    strip_user=True, salt="NaCl-1234")
cli("htpasswd bcrypt of password+salt, salt_position suffix", f"htpasswd -nbB -C 4 u '{PW}NaCl-1234'", PW, "bcrypt", True,
    strip_user=True, salt="NaCl-1234", salt_position="suffix")
long_salted = "x" * 60 + "0123456789"  # 9 bytes of salt + 70 of password: bcrypt reads the first 63 of it
cli("htpasswd bcrypt of salt+long password (72-byte limit includes the salt)", f"htpasswd -nbB -C 4 u 'NaCl-1234{long_salted}'", long_salted, "bcrypt", True,
    strip_user=True, salt="NaCl-1234", also_matches=[long_salted[:63], long_salted[:63] + "ignored"], wrong=[long_salted[:62]])
cli("Django bcrypt$ prefix", "echo \"bcrypt\\$$(htpasswd -nbB -C 4 u hunter2 | cut -d: -f2 | sed 's/^\\$2y\\$/$2b$/')\"",
    "hunter2", "bcrypt", True, format="django-bcrypt")
add("Auth0 docs: bcrypt example for 'hello'",
    "Auth0 docs, bulk-user-import-database-schema-and-examples: \"generated from the string hello using a cost parameter of 10\"",
    "hello", "bcrypt", True, hash="$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K")

# --- argon2 -----------------------------------------------------------------
for variant, flag in [("argon2id", "-id"), ("argon2i", "-i")]:
    cli(f"argon2 CLI {variant}", f"printf %s '{PW}' | argon2 saltsaltsalt {flag} -t 2 -k 256 -p 2 -l 32 -e", PW, "argon2", True, format="argon2")
cli("argon2 CLI argon2id, unicode password, 16-byte output", f"printf %s '{UNI}' | argon2 0123456789abcdef -id -t 1 -k 64 -p 1 -l 16 -e", UNI, "argon2", True)
cli("argon2 CLI argon2d (not supported by Auth0)", f"printf %s '{PW}' | argon2 saltsaltsalt -d -t 2 -k 64 -p 1 -e", PW, "argon2d", False)
cli("argon2 CLI version 1.0 (not supported by Auth0)", f"printf %s '{PW}' | argon2 saltsaltsalt -i -v 10 -t 2 -k 64 -p 1 -e", PW, "argon2-v16", False)
cli("Django argon2 prefix", f"printf %s '{PW}' | argon2 django-salt-16b -id -t 2 -k 128 -p 2 -l 32 -e | sed 's/^/argon2/'", PW, "argon2", True, format="django-argon2")

# --- pbkdf2 -----------------------------------------------------------------
expr("PHC pbkdf2-sha256 (Auth0's form)",
     f"'$pbkdf2-sha256$i=1000,l=32$' + b64(b'phc-salt-16bytes', False) + '$' + b64(hashlib.pbkdf2_hmac('sha256', {PW!r}.encode(), b'phc-salt-16bytes', 1000, 32), False)",
     PW, "pbkdf2", True, format="phc-pbkdf2")
expr("PHC pbkdf2-sha512 with default i and l omitted (i=100000, l=64)",
     f"'$pbkdf2-sha512$' + b64(b'default-params', False) + '$' + b64(hashlib.pbkdf2_hmac('sha512', b'hunter2', b'default-params', 100000, 64), False)",
     "hunter2", "pbkdf2", True)
expr("PHC pbkdf2 with OpenSSL alias RSA-SHA1",
     f"'$pbkdf2-RSA-SHA1$i=2000,l=20$' + b64(b'salty', False) + '$' + b64(hashlib.pbkdf2_hmac('sha1', b'hunter2', b'salty', 2000, 20), False)",
     "hunter2", "pbkdf2", True)
expr("passlib pbkdf2_sha256", f"'$pbkdf2-sha256$2900$' + ab64(b'\\xfb\\xffpasslib-salt') + '$' + ab64(hashlib.pbkdf2_hmac('sha256', {PW!r}.encode(), b'\\xfb\\xffpasslib-salt', 2900))",
     PW, "pbkdf2", True, format="passlib-pbkdf2")
expr("passlib pbkdf2_sha1 ($pbkdf2$)", f"'$pbkdf2$1212$' + ab64(b'\\xfb\\xef\\xbe-sha1-salt') + '$' + ab64(hashlib.pbkdf2_hmac('sha1', {UNI!r}.encode(), b'\\xfb\\xef\\xbe-sha1-salt', 1212))",
     UNI, "pbkdf2", True, format="passlib-pbkdf2")
expr("passlib pbkdf2_sha512", "'$pbkdf2-sha512$2500$' + ab64(b'512-salt') + '$' + ab64(hashlib.pbkdf2_hmac('sha512', b'hunter2', b'512-salt', 2500))",
     "hunter2", "pbkdf2", True, format="passlib-pbkdf2")
expr("Django pbkdf2_sha256", f"'pbkdf2_sha256$3600$djangoSaltText22chars$' + b64(hashlib.pbkdf2_hmac('sha256', {PW!r}.encode(), b'djangoSaltText22chars', 3600))",
     PW, "pbkdf2", True, format="django-pbkdf2")
expr("Django pbkdf2_sha1", f"'pbkdf2_sha1$1000$oldsalt$' + b64(hashlib.pbkdf2_hmac('sha1', {UNI!r}.encode(), b'oldsalt', 1000))",
     UNI, "pbkdf2", True, format="django-pbkdf2")
expr("Werkzeug pbkdf2:sha256", f"'pbkdf2:sha256:2600$wzSALTwzSALTwz16$' + hashlib.pbkdf2_hmac('sha256', {PW!r}.encode(), b'wzSALTwzSALTwz16', 2600).hex()",
     PW, "pbkdf2", True, format="werkzeug-pbkdf2")
expr("Werkzeug pbkdf2:sha512", "'pbkdf2:sha512:1500$abcdefgh$' + hashlib.pbkdf2_hmac('sha512', b'hunter2', b'abcdefgh', 1500).hex()",
     "hunter2", "pbkdf2", True, format="werkzeug-pbkdf2")
expr("Werkzeug pbkdf2 with a digest Auth0 lacks (sha3_256)", "'pbkdf2:sha3_256:1000$abcdefgh$' + hashlib.pbkdf2_hmac('sha3_256', b'hunter2', b'abcdefgh', 1000).hex()",
     "hunter2", "pbkdf2-unsupported-digest", False)
expr("Atlassian {PKCS5S2}", f"'{{PKCS5S2}}' + b64(b'atlassian16bytes' + hashlib.pbkdf2_hmac('sha1', {PW!r}.encode(), b'atlassian16bytes', 10000, 32))",
     PW, "pbkdf2", True, format="atlassian-pkcs5s2")
for digest, legacy in [("whirlpool", True), ("md4", True), ("sha224", False), ("ripemd160", True), ("sha384", False)]:
    prov = "-provider legacy -provider default " if legacy else ""
    cmd = (f"openssl kdf {prov}-keylen 40 -kdfopt digest:{digest.upper()} -kdfopt pass:hunter2 -kdfopt hexsalt:73616c7473616c74 "
           f"-kdfopt iter:1000 PBKDF2 | tr -d ':' | xxd -r -p | base64 -w0 | tr -d '=' | sed 's/^/$pbkdf2-{digest}$i=1000,l=40$c2FsdHNhbHQ$/'")
    cli(f"openssl kdf PBKDF2 {digest}", cmd, "hunter2", "pbkdf2", True)

# --- ldap (RFC 2307) --------------------------------------------------------
cli("htpasswd {SHA}", f"htpasswd -nbs u '{PW}'", PW, "ldap", True, strip_user=True, format="rfc2307")
expr("{SSHA}", f"'{{SSHA}}' + b64(hashlib.sha1({PW!r}.encode() + b'\\x01\\x02salt').digest() + b'\\x01\\x02salt')", PW, "ldap", True)
expr("{SMD5}", "'{SMD5}' + b64(hashlib.md5(b'hunter2' + b'pepperpepper').digest() + b'pepperpepper')", "hunter2", "ldap", True)
expr("{MD5}", f"'{{MD5}}' + b64(hashlib.md5({UNI!r}.encode()).digest())", UNI, "ldap", True)
expr("{SSHA256}", "'{SSHA256}' + b64(hashlib.sha256(b'hunter2' + b'12345678').digest() + b'12345678')", "hunter2", "ldap", True)
expr("{SSHA384}", "'{SSHA384}' + b64(hashlib.sha384(b'hunter2' + b'salt384').digest() + b'salt384')", "hunter2", "ldap", True)
expr("{SHA512}", "'{SHA512}' + b64(hashlib.sha512(b'hunter2').digest())", "hunter2", "ldap", True)
expr("{SSHA512} lower-case scheme", "'{ssha512}' + b64(hashlib.sha512(b'hunter2' + b'\\x00\\xff').digest() + b'\\x00\\xff')", "hunter2", "ldap", True)
expr("LDIF base64 of {SSHA} (userPassword:: …)", "b64(('{SSHA}' + b64(hashlib.sha1(b'hunter2' + b'ldif').digest() + b'ldif')).encode())",
     "hunter2", "ldap", True, format="ldif-rfc2307")
cli("{CRYPT} (not supported by Auth0)", "echo \"{CRYPT}$(openssl passwd -6 -salt saltsalt hunter2)\"", "hunter2", "ldap-crypt", False)

# --- scrypt -----------------------------------------------------------------
expr("passlib scrypt", f"'$scrypt$ln=10,r=8,p=1$' + b64(b'\\x8c\\xde\\xad-scrypt-salt', False) + '$' + b64(hashlib.scrypt({PW!r}.encode(), salt=b'\\x8c\\xde\\xad-scrypt-salt', n=1024, r=8, p=1, dklen=32), False)",
     PW, "scrypt", True, format="passlib-scrypt")
expr("passlib scrypt with passlib's defaults (ln=16: above Node's 32 MiB)", "'$scrypt$ln=16,r=8,p=1$' + b64(b'sixteen-byte-slt', False) + '$' + b64(hashlib.scrypt(b'hunter2', salt=b'sixteen-byte-slt', n=65536, r=8, p=1, dklen=32, maxmem=128*1024*1024), False)",
     "hunter2", "scrypt", True, warnings=["scrypt_memory"])
expr("Django scrypt", f"'scrypt$2048$djangoScryptSalt$8$2$' + b64(hashlib.scrypt({UNI!r}.encode(), salt=b'djangoScryptSalt', n=2048, r=8, p=2, dklen=64))",
     UNI, "scrypt", True, format="django-scrypt")
expr("Werkzeug scrypt", "'scrypt:4096:8:1$wzScryptSalt1234$' + hashlib.scrypt(b'hunter2', salt=b'wzScryptSalt1234', n=4096, r=8, p=1, dklen=64).hex()",
     "hunter2", "scrypt", True, format="werkzeug-scrypt")
expr("bare scrypt key with Auth0/Node defaults", "hashlib.scrypt(b'hunter2', salt=b'rowsalt', n=16384, r=8, p=1, dklen=32).hex()",
     "hunter2", "scrypt", True, algorithm="scrypt", salt="rowsalt", warnings=["assumed_algorithm"])

# --- raw digests ------------------------------------------------------------
expr("sha256 hex, no algorithm column", f"hashlib.sha256({PW!r}.encode()).hexdigest()", PW, "sha256", True, format="hex-digest")
expr("sha1 HEX upper case", "hashlib.sha1(b'hunter2').hexdigest().upper()", "hunter2", "sha1", True)
expr("sha512 base64", f"b64(hashlib.sha512({UNI!r}.encode()).digest())", UNI, "sha512", True, format="base64-digest")
expr("sha256 url-safe base64 unpadded", "base64.urlsafe_b64encode(hashlib.sha256(b'hunter2?>').digest()).decode().rstrip('=')", "hunter2?>", "sha256", True)
expr("md5 hex, no algorithm column (assumed md5)", "hashlib.md5(b'hunter2').hexdigest()", "hunter2", "md5", True, warnings=["assumed_algorithm"])
cli("md4 hex (openssl legacy provider)", "printf %s hunter2 | openssl dgst -provider legacy -provider default -md4 -r | cut -d' ' -f1",
    "hunter2", "md4", True, algorithm="md4")
cli("md4 base64 (openssl legacy provider)", "printf %s hunter2 | openssl dgst -provider legacy -provider default -md4 -binary | base64",
    "hunter2", "md4", True, algorithm="MD4", encoding="base64")
expr("md5(salt+password), salt column", "hashlib.md5(b'NaCl' + b'hunter2').hexdigest()", "hunter2", "md5", True, algorithm="md5", salt="NaCl")
expr("sha1(password+salt), salt suffix", f"hashlib.sha1({PW!r}.encode() + 'sälz'.encode()).hexdigest()", PW, "sha1", True,
     algorithm="sha-1", salt="sälz", salt_position="suffix")
expr("sha512(salt+password) base64, salt column", "b64(hashlib.sha512(b'$alt$' + b'hunter2').digest())", "hunter2", "sha512", True,
     algorithm="sha512", salt="$alt$", encoding="base64")
expr("sha384 hex through ldap {SHA384}", "hashlib.sha384(b'hunter2').hexdigest()", "hunter2", "ldap", True)
expr("sha384(password+salt) through ldap {SSHA384}", "hashlib.sha384(b'hunter2' + b'tail').hexdigest()", "hunter2", "ldap", True,
     algorithm="sha384", salt="tail", salt_position="suffix")
expr("Django salted md5$", "'md5$djsalt$' + hashlib.md5(b'djsalt' + b'hunter2').hexdigest()", "hunter2", "md5", True,
     format="django-digest", warnings=["assumed_scheme"])
expr("Django unsalted sha1$$", "'sha1$$' + hashlib.sha1(b'hunter2').hexdigest()", "hunter2", "sha1", True)
expr("Werkzeug sha256$salt$ (HMAC keyed with the salt)", "'sha256$wksalt$' + hmac.new(b'wksalt', b'hunter2', 'sha256').hexdigest()", "hunter2", "hmac", True,
     format="werkzeug-hmac", warnings=["assumed_scheme"])
expr("Werkzeug md5$salt$ with password_algorithm hmac", "'md5$wksalt$' + hmac.new(b'wksalt', b'hunter2', 'md5').hexdigest()", "hunter2", "hmac", True,
     algorithm="hmac")

# --- not importable ---------------------------------------------------------
for flag, family in [("-1", "md5-crypt"), ("-apr1", "apr1"), ("-5", "sha256-crypt"), ("-6", "sha512-crypt")]:
    cli(f"openssl passwd {flag}", f"openssl passwd {flag} hunter2", "hunter2", family, False)
cli("htpasswd -m ($apr1$)", "htpasswd -nbm u hunter2", "hunter2", "apr1", False, strip_user=True)
cli("htpasswd -d (DES crypt)", "htpasswd -nbd u hunter2", "hunter2", "des-crypt", False, strip_user=True)
expr("MySQL 4.1 PASSWORD()", "'*' + hashlib.sha1(hashlib.sha1(b'hunter2').digest()).hexdigest().upper()", "hunter2", "mysql-native", False)
expr("phpass (WordPress)", "phpass(b'hunter2', 'wpSalt42')", "hunter2", "phpass", False)
for setting, family in [("$y$j9T$F5Jx5fExrKuPp53xLKQ..1", "yescrypt"), ("$gy$j9T$F5Jx5fExrKuPp53xLKQ..1", "yescrypt"),
                        ("$7$CU..../....abcdefgh", "scrypt-crypt"), ("$sha1$1000$abcdefgh", "sha1-crypt"),
                        ("$md5$abcdefgh", "sun-md5-crypt"), ("_J9..abcd", "des-crypt"), ("ab", "des-crypt")]:
    expr(f"libxcrypt {family} ({setting[:5]})", f"crypt.crypt('hunter2', {setting!r})", "hunter2", family, False)

# --- ready-made custom_password_hash objects (CheckCustom + Verify) ----------
def custom(name, cmd, password, obj, **kw):
    add(name, cmd, password, obj["algorithm"], True, custom=obj, **kw)


def hm(digest, key, pw, legacy):
    prov = "-provider legacy -provider default " if legacy else ""
    cmd = f"printf %s '{pw}' | openssl dgst {prov}-{digest} -hmac '{key}' -binary | base64"
    return cmd, sh(cmd)


for digest, legacy in [("whirlpool", True), ("ripemd160", True), ("md4", True), ("sha224", False), ("sha384", False), ("sha512", False)]:
    cmd, value = hm(digest, "s3cr3t-key", "hunter2", legacy)
    custom(f"openssl HMAC-{digest}", cmd, "hunter2",
           {"algorithm": "hmac", "hash": {"value": value, "encoding": "base64", "digest": digest, "key": {"value": "s3cr3t-key"}}})
e = "hmac.new(bytes.fromhex('00ff10'), 'NaCl'.encode() + b'hunter2', 'sha256').hexdigest()"
custom("python HMAC-sha256, hex key, prefix salt", "python3: " + e, "hunter2",
       {"algorithm": "hmac", "hash": {"value": py(e), "encoding": "hex", "digest": "sha256", "key": {"value": "00ff10", "encoding": "hex"}},
        "salt": {"value": "NaCl"}})
e = f"hashlib.md5({UNI!r}.encode('utf-16-le')).hexdigest()"
custom("md5 of a utf16le password", "python3: " + e, UNI, {"algorithm": "md5", "hash": {"value": py(e), "encoding": "hex"}, "password": {"encoding": "utf16le"}})
e = "b64(hashlib.sha1('pässwörd'.encode('latin-1')).digest())"
custom("sha1 of a latin1 password", "python3: " + e, "pässwörd", {"algorithm": "sha1", "hash": {"value": py(e), "encoding": "base64"}, "password": {"encoding": "latin1"}})
e = "hashlib.sha256(b'hunter2' + bytes.fromhex('deadbeef')).hexdigest()"
custom("sha256 with a hex salt as suffix", "python3: " + e, "hunter2",
       {"algorithm": "sha256", "hash": {"value": py(e), "encoding": "hex"}, "salt": {"value": "DEADBEEF", "encoding": "hex", "position": "suffix"}})
cmd = "openssl kdf -keylen 24 -kdfopt pass:hunter2 -kdfopt salt:NaCl -kdfopt n:1024 -kdfopt r:4 -kdfopt p:2 SCRYPT | tr -d ':'"
custom("openssl kdf SCRYPT, base64 salt", cmd, "hunter2",
       {"algorithm": "scrypt", "hash": {"value": sh(cmd), "encoding": "hex"}, "salt": {"value": "TmFDbA==", "encoding": "base64"},
        "keylen": 24, "cost": 1024, "blockSize": 4, "parallelization": 2})
cmd = "htpasswd -nbB -C 4 u 'hunter2pepper' | cut -d: -f2"
custom("bcrypt with suffix salt object", cmd, "hunter2", {"algorithm": "bcrypt", "hash": {"value": sh(cmd)}, "salt": {"value": "pepper", "position": "suffix"}})

# Auth0's own documentation examples (bulk-user-import-database-schema-and-examples);
# the passwords were recovered by trying common words against them: with
# hashlib and openssl for the digests, pbkdf2, hmac, ldap and scrypt examples,
# and (no argon2 or bcrypt module being installed) with this package's Verify
# for the argon2 and second bcrypt examples.
DOCS = "Auth0 docs, bulk-user-import-database-schema-and-examples, custom password hash examples"
custom("Auth0 docs: md4 base64", DOCS, "shh", {"algorithm": "md4", "hash": {"value": "AbuUujgF0pPPkJPSFRTpmA==", "encoding": "base64"}})
custom("Auth0 docs: sha256 with prefix salt", DOCS, "shh", {"algorithm": "sha256", "hash": {
    "value": "d24e794fce503c3ddb1cd1ba1dd5d9b250cf9917336a0316fefd87fecf79200f", "encoding": "hex"}, "salt": {"value": "abc123", "position": "prefix"}})
custom("Auth0 docs: pbkdf2-md4", DOCS, "shh", wrong=["shh2"], obj={"algorithm": "pbkdf2", "hash": {
    "value": "$pbkdf2-md4$i=100000,l=64$+N375B8q0Fw$fp2R9KAM4hK/votGHC5Fu+jhqbxUD8+Nic/EMSGvNC3UP/k7wSHI0uXluHRSkZfl/BOheYqNOemayG90ZaSSQw", "encoding": "utf8"}})
custom("Auth0 docs: pbkdf2-sha512", DOCS, "shh", wrong=["shh2"], obj={"algorithm": "pbkdf2", "hash": {
    "value": "$pbkdf2-sha512$i=100000,l=64$KNyFsA2rWoE$I2CQGI9H0JxdDf3kERRI97kPCGxh0KWBIV3MxyaS191gDGfzVBGyS4BibhgqWQ0/ails8mHuU9ckASxHOOq58w"}})
custom("Auth0 docs: ldap SSHA384", DOCS, "shh", {"algorithm": "ldap", "hash": {
    "value": "{SSHA384}/cgEjdoZh85DhurDeOQEMO1rMlAur93SVPbYe5XSD4lF7nNuvrBju5hUeg9A6agRemgSXGl5YuE=", "encoding": "utf8"}})
custom("Auth0 docs: hmac sha1 with hex key", DOCS, "test", {"algorithm": "hmac", "hash": {
    "value": "cg7f42jH39/2EaAU4wNd4s2lKIk=", "encoding": "base64", "digest": "sha1", "key": {"value": "736868", "encoding": "hex"}}})
custom("Auth0 docs: scrypt", DOCS, "password", {"algorithm": "scrypt", "hash": {
    "value": "097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29", "encoding": "hex"},
    "salt": {"value": "abc123", "encoding": "utf8"}, "keylen": 32, "cost": 4096})
custom("Auth0 docs: bcrypt", DOCS, "shh", {"algorithm": "bcrypt", "hash": {"value": "$2b$10$C9hB01.YxRSTcn/ZOOo4j.TW7xCKKFKBSF.C7E0xiUwumqIDqWUXG"}})
custom("Auth0 docs: argon2id", DOCS, "shh", wrong=["shh2"], obj={"algorithm": "argon2", "hash": {
    "value": "$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}})
add("Auth0 docs: password_hash bcrypt", DOCS + " (the 'hello' example)", "hello", "bcrypt", True,
    password_hash="$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K")

# One wrong password is enough where each check costs tens of milliseconds.
for v in vectors:
    h = v.get("password_hash") or (v.get("input") or {}).get("hash") or (v.get("custom") or {}).get("hash", {}).get("value", "")
    if h.startswith("$2") and int(h[4:6] if h[3] == "$" else h[3:5]) >= 10:
        v["wrong"] = v["wrong"][:1]

json.dump(vectors, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
