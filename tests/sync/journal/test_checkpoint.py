"""Checkpoints are C2SP signed notes: Go sumdb/note known answers, cosignature/v1, parsing."""

from __future__ import annotations

import base64
import contextlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from sync.journal import RecordError
from sync.journal.checkpoint import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Checkpoint,
    box_signature_valid,
    cosign,
    cosignature_time,
    fork_report,
    note_key_hash,
    parse_note,
    parse_vkey,
    sign_checkpoint,
    vkey,
)
from sync.journal.record import public_bytes
from sync.journal.vectors import BOX1, HQ, HQ_NAME, LOG

# golang.org/x/mod/sumdb/note's documented example (an independent implementation).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_SIG = ("x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6Ryy"
          "BwJnAM=")
# transparency-dev/formats' cosignature/v1 test key (alg 0x04).
COSIG_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def test_note_signatures_match_the_go_implementation() -> None:
    name, alg, pub = parse_vkey(GO_VKEY)
    assert (name, alg) == ("PeterNeumann", ALG_ED25519)
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert public_bytes(key) == public_bytes(pub)
    blob = note_key_hash(name, ALG_ED25519, public_bytes(pub)) + key.sign(GO_TEXT.encode())
    assert base64.b64encode(blob).decode() == GO_SIG
    assert vkey(name, public_bytes(pub)) == GO_VKEY


def test_a_plus_inside_the_key_material() -> None:
    plus = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"  # transparency-dev/formats
    name, alg, pub = parse_vkey(plus)
    assert (name, alg) == ("TEST", ALG_ED25519)
    assert vkey(name, public_bytes(pub)) == plus


def test_cosignature_key_hashes_use_alg_4() -> None:
    name, alg, pub = parse_vkey(COSIG_VKEY)
    assert (name, alg) == ("remora.n621.de", ALG_COSIGNATURE_V1)
    assert vkey(name, public_bytes(pub), ALG_COSIGNATURE_V1) == COSIG_VKEY


@pytest.mark.parametrize("bad", [
    GO_VKEY.replace("c74f20a3", "c74f20a4"), "PeterNeumann+c74f20a3", "a b+00000000+AA==",
    GO_VKEY[:-4] + "!!!!", "x+00000000+" + base64.b64encode(b"\x02" + bytes(32)).decode(),
])
def test_bad_vkeys_are_refused(bad: str) -> None:
    with pytest.raises(RecordError):
        parse_vkey(bad)


def test_sign_parse_and_cosign_round_trip() -> None:
    cp = Checkpoint(LOG, 20, bytes(range(32)))
    signed = sign_checkpoint(cp, BOX1)
    text = signed.text()
    assert text.startswith(f"storelink.journal/{LOG}\n20\n")
    assert parse_note(text) == signed
    assert box_signature_valid(parse_note(text), BOX1.public_key())
    assert not box_signature_valid(signed, HQ.public_key())
    both = cosign(signed, HQ_NAME, HQ, 1795950060)
    again = parse_note(both.text())
    assert cosignature_time(again, HQ_NAME, HQ.public_key()) == 1795950060
    assert cosignature_time(again, HQ_NAME, BOX1.public_key()) is None
    assert box_signature_valid(again, BOX1.public_key())
    tampered = parse_note(both.text().replace("\n20\n", "\n21\n"))
    assert cosignature_time(tampered, HQ_NAME, HQ.public_key()) is None
    assert not box_signature_valid(tampered, BOX1.public_key())


def test_a_fork_report_holds_both_checkpoints() -> None:
    a = sign_checkpoint(Checkpoint(LOG, 5, bytes(32)), BOX1)
    b = sign_checkpoint(Checkpoint(LOG, 5, bytes(31) + b"\x01"), BOX1)
    report = fork_report(a, b)
    assert report is not None and a.text() in report and b.text() in report
    assert fork_report(a, a) is None


@pytest.mark.parametrize("text", [
    "", "x\n", f"storelink.journal/{LOG}\n20\nAAAA\n\n— a AAAAAAAA\n",
    f"storelink.journal/{LOG}\n020\n{base64.b64encode(bytes(32)).decode()}\n\n— a AAAAAAAA\n",
    f"storelink.journal/{LOG.upper()}\n1\n{base64.b64encode(bytes(32)).decode()}\n\n— a AAAAAAA\n",
    f"storelink.journal/{LOG}\n1\n{base64.b64encode(bytes(32)).decode()}\n\n- a AAAAAAAA\n",
    f"storelink.journal/{LOG}\n1\n{base64.b64encode(bytes(32)).decode()}\nextra\n\n— a AAAAAAAA\n",
])
def test_malformed_notes_are_refused(text: str) -> None:
    with pytest.raises(RecordError):
        parse_note(text)


@given(st.text(max_size=200))
def test_random_text_raises_only_record_error(text: str) -> None:
    with contextlib.suppress(RecordError):
        parse_note(text)
