"""Create a production key file without starting the application (which refuses to start without one).

    python -m app.security.crypto init /etc/lots/master-keys.json
"""

from __future__ import annotations

import argparse
import os
import sys

from app.security.crypto.errors import KeyFileError
from app.security.crypto.keyring import Keyring, create_key_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.security.crypto")
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create a new key file (mode 0600); never overwrites one")
    init.add_argument("path")
    args = parser.parse_args(argv)
    os.umask(0o077)
    try:
        path = create_key_file(args.path)
        keyring = Keyring(path, strict=True)
    except KeyFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Created {path} with master key {keyring.active_id} and blind-index key {keyring.index_key_id}.")
    print("Back it up offline now, separately from database backups, and set LOTS_KEY_FILE to this path.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
