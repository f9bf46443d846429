"""The key ring: authenticated encryption, key ids, blind indexes, where keys come from."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from portal import crypto
from portal.config import ConfigError, load_settings


def _ring(*keys: str) -> crypto.KeyRing:
    return crypto.KeyRing.from_text(list(keys), crypto.new_key())


def test_a_value_round_trips_and_never_encrypts_the_same_way_twice() -> None:
    ring = _ring(crypto.new_key())
    first, second = ring.encrypt_text("Fatma Demir"), ring.encrypt_text("Fatma Demir")
    assert first != second and "Fatma" not in first
    assert first.startswith(f"E1:{ring.current_id}:")
    assert ring.decrypt_text(first) == ring.decrypt_text(second) == "Fatma Demir"
    assert ring.decrypt_bytes(ring.encrypt_bytes(b"BEGIN:VCALENDAR")) == b"BEGIN:VCALENDAR"


def test_a_changed_ciphertext_or_plaintext_in_an_encrypted_column_is_refused() -> None:
    ring = _ring(crypto.new_key())
    stored = ring.encrypt_text("Schulden beim Vermieter")
    flipped = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.Tampered):
        ring.decrypt_text(flipped)
    with pytest.raises(crypto.Tampered):
        ring.decrypt_text("Schulden beim Vermieter")
    with pytest.raises(crypto.Tampered):
        ring.decrypt_bytes(b"raw message")
    with pytest.raises(crypto.Tampered):
        ring.decrypt_text(stored[:20])


def test_old_keys_decrypt_the_newest_encrypts_and_a_removed_key_is_named() -> None:
    old, new = crypto.new_key(), crypto.new_key()
    before = _ring(old).encrypt_text("Elif")
    rotated = crypto.KeyRing.from_text([new, old], crypto.new_key())
    assert rotated.decrypt_text(before) == "Elif"
    assert rotated.encrypt_text("Elif").startswith(f"E1:{rotated.current_id}:")
    with pytest.raises(crypto.UnknownKey):
        _ring(new).decrypt_text(before)


def test_blind_indexes_match_the_same_contact_written_differently() -> None:
    ring = _ring(crypto.new_key())
    assert ring.blind_index("email", " Elif@Example.org") == ring.blind_index(
        "email", "elif@example.org"
    )
    same = {
        ring.blind_index("phone", p)
        for p in ("05207 123456", "+49 5207 123456", "0049-5207/123456")
    }
    assert len(same) == 1
    assert ring.blind_index("phone", "05207 123457") not in same
    assert ring.blind_index("email", "") == ""
    other = crypto.KeyRing.from_text([crypto.new_key()], crypto.new_key())
    assert other.blind_index("email", "elif@example.org") != ring.blind_index(
        "email", "elif@example.org"
    )  # keyed: a list of guessed addresses cannot be hashed without the key


def test_the_key_file_is_created_once_private_and_read_back(tmp_path: Path) -> None:
    ring = crypto.load_keyring((), "", tmp_path / "instance")
    path = tmp_path / "instance" / crypto.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = crypto.load_keyring((), "", tmp_path / "instance")
    assert again.key_ids == ring.key_ids and again.index_key == ring.index_key
    path.chmod(0o644)
    with pytest.raises(crypto.BadKey, match="chmod 600"):
        crypto.load_keyring((), "", tmp_path / "instance")


def test_configured_keys_win_and_need_their_blind_index_key(tmp_path: Path) -> None:
    first, second, index = crypto.new_key(), crypto.new_key(), crypto.new_key()
    settings = load_settings(
        tmp_path,
        {"testing": True, "encryption_keys": f"{first}, {second}", "blind_index_key": index},
        environ={},
    )
    ring = crypto.load_keyring(settings.encryption_keys, settings.blind_index_key, tmp_path)
    assert ring.key_ids == (
        crypto.key_id(crypto.decode_key(first)),
        crypto.key_id(crypto.decode_key(second)),
    )
    assert not (tmp_path / crypto.KEY_FILE).exists()
    with pytest.raises(ConfigError, match="go together"):
        load_settings(tmp_path, {"testing": True, "encryption_keys": first}, environ={})
    with pytest.raises(ConfigError, match="32 bytes"):
        load_settings(
            tmp_path,
            {"testing": True, "encryption_keys": "c2hvcnQ=", "blind_index_key": index},
            environ={},
        )
    listed = load_settings(
        tmp_path,
        {"testing": True, "encryption_keys": [first, second], "blind_index_key": index},
        environ={},
    )
    assert listed.encryption_keys == (first, second)
