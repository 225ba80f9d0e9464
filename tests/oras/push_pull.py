"""Pushes files to Arca as an OCI artifact with oras-py, then pulls them back.

Driven by tests/tests/oci_clients.rs with the repository's .venv (scripts/install-test-deps.sh
installs oras-py there).

Usage: push_pull.py HOST REPO OUTDIR FILE...
  HOST    registry host:port, plain HTTP (oras-py's insecure=True)
  REPO    repository, e.g. demo/artifact
  OUTDIR  where the pulls go: OUTDIR/<mode>/<file name>
  FILE    files to push, relative to the current directory (oras-py requires that)
Environment: ARCA_KEY, the API key (sent as Basic $oauthtoken:<key> to the token service).

Pushes the files twice, each time as tag `v1`: to REPO with monolithic blob uploads, and to
REPO-chunked with chunked uploads (PATCH with Content-Range, 64 KiB chunks; another repository,
so that oras-py does not skip blobs it finds already there). Prints one JSON line:
{"manifests": {mode: manifest}, "pulled": {mode: [paths]}} with mode `monolithic`/`chunked`.
"""
import json
import os
import sys

import oras.client


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    host, repo, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    files = sys.argv[4:]
    key = os.environ["ARCA_KEY"]

    client = oras.client.OrasClient(hostname=host, insecure=True)
    client.auth.set_basic_auth("$oauthtoken", key)

    manifests, pulled = {}, {}
    for mode, name, chunked in (("monolithic", repo, False), ("chunked", repo + "-chunked", True)):
        target = f"{host}/{name}:v1"
        res = client.push(
            target=target,
            files=files,
            do_chunked=chunked,
            chunk_size=64 * 1024,
            manifest_annotations={"org.example.mode": mode},
            quiet=True,
        )
        if res.status_code != 201:
            sys.exit(f"push of {target} answered {res.status_code}: {res.text}")
        manifests[mode] = client.get_manifest(target)
        dest = os.path.join(outdir, mode)
        os.makedirs(dest, exist_ok=True)
        pulled[mode] = client.pull(target=target, outdir=dest)
    print(json.dumps({"manifests": manifests, "pulled": pulled}))


if __name__ == "__main__":
    main()
