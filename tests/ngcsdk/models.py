"""Round trips of a model and a resource through a live Arca with NVIDIA's official ngcsdk.

Environment: ARCA_KEY, ARCA_ORG, WORKDIR (scratch directory), BIG_SIZE (size in bytes of the
large file; above ngcsdk's 500,000,000-byte part size it travels in two parts), plus the ngcsdk
variables NGC_CLI_API_URL, NGC_CLI_AUTH_URL, NGC_CLI_HOME, REQUESTS_CA_BUNDLE and
NGC_CLI_TRACE_DISABLE=1.

The first model upload is interrupted on purpose: the PUT of the large file's first part fails
as a dropped connection would. The rerun must complete, sending only what is missing. Prints
one JSON object with what it saw; exits non-zero on the first failed check.
"""

import hashlib
import json
import os
import sys

import aiohttp
import ngcsdk
from ngcbase.transfer import async_workers

WORKER = async_workers.AsyncFileS3UploadWorkerPool
ORIGINAL_PUT = WORKER._request_s3_upload
PUTS = []


def recording_put(fail_first_part_of=None):
    """Replaces the part PUT: records (file, start, end); optionally fails one part once."""

    async def put(self, file_path, start, end, url):
        PUTS.append((os.path.basename(file_path), start, end))
        if fail_first_part_of and file_path.endswith(fail_first_part_of) and start == 0:
            raise aiohttp.ClientConnectionError("injected: connection dropped mid-upload")
        return await ORIGINAL_PUT(self, file_path, start, end, url)

    WORKER._request_s3_upload = put


def write_tree(root, big_size):
    files = {
        "README.md": b"# a model\n",
        "empty.txt": b"",
        "sub/config.json": b'{"layers": 12}\n',
        "sub/deeper/weights.bin": os.urandom(3 * 1024 * 1024 + 7),
    }
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    # The large file: sparse, with random bytes at both ends and across the part boundary.
    big = os.path.join(root, "big.bin")
    with open(big, "wb") as f:
        f.truncate(big_size)
        for offset in (0, 499_999_990, big_size - 4096):
            f.seek(offset)
            f.write(os.urandom(min(4096, big_size - offset)))
    return sorted(list(files) + ["big.bin"])


def digest_tree(root):
    out = {}
    for base, _, names in os.walk(root):
        for n in names:
            path = os.path.join(base, n)
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out[os.path.relpath(path, root)] = h.hexdigest()
    return out


def status_of(result):
    """The transfer's final status, lower case ("completed", "failed", ...)."""
    status = result.get("status") if isinstance(result, dict) else getattr(result, "status", None)
    return str(status).lower()


def main():
    org = os.environ["ARCA_ORG"]
    work = os.environ["WORKDIR"]
    big_size = int(os.environ["BIG_SIZE"])
    client = ngcsdk.Client()
    client.configure(api_key=os.environ["ARCA_KEY"], org_name=org, team_name=None)
    seen = {}

    # ---- model -------------------------------------------------------------------------------
    model = f"{org}/ngc-model"
    client.registry.model.create(
        model,
        application="OTHER",
        framework="PyTorch",
        model_format="onnx",
        precision="FP16",
        short_description="made by ngcsdk",
        display_name="NGC model",
        label=["vision"],
    )
    src = os.path.join(work, "model-src")
    names = write_tree(src, big_size)
    want = digest_tree(src)

    recording_put(fail_first_part_of="big.bin")
    first = client.registry.model.upload_version(
        f"{model}:1.0", source=src, gpu_model="A100", description="first", batch_size=8
    )
    seen["first_status"] = status_of(first)
    first_puts = list(PUTS)
    PUTS.clear()
    recording_put()
    second = client.registry.model.upload_version(
        f"{model}:1.0", source=src, gpu_model="A100", description="first", batch_size=8
    )
    seen["second_status"] = status_of(second)
    seen["first_puts"] = sorted(first_puts)
    seen["second_puts"] = sorted(PUTS)

    info = client.registry.model.info(model)
    seen["model"] = {
        "name": info.model.name,
        "latestVersionIdStr": info.model.latestVersionIdStr,
        "latestVersionId": info.model.latestVersionId,
        "displayName": info.model.displayName,
        "framework": info.model.framework,
    }
    vinfo = client.registry.model.info(f"{model}:1.0")
    seen["version"] = {
        "status": vinfo.modelVersion.status,
        "totalFileCount": vinfo.modelVersion.totalFileCount,
        "totalSizeInBytes": vinfo.modelVersion.totalSizeInBytes,
        "gpuModel": vinfo.modelVersion.gpuModel,
        "batchSize": vinfo.modelVersion.batchSize,
    }
    versions = client.registry.model.list(model)
    flat = []
    for page in versions:
        flat.extend(page if isinstance(page, list) else [page])
    seen["versions"] = [v.versionId for v in flat]
    listed = client.registry.model.list(f"{org}/ngc-*")
    # A wildcard list goes through the search API; ngcsdk flattens the hits into models.
    seen["search"] = sorted({getattr(r, "resourceId", None) or r.name for r in listed})

    dest = os.path.join(work, "model-dl")
    os.makedirs(dest, exist_ok=True)
    dl = client.registry.model.download_version(f"{model}:1.0", destination=dest)
    seen["download_status"] = status_of(dl)
    got = digest_tree(os.path.join(dest, "ngc-model_v1.0"))
    seen["download_matches"] = got == want
    seen["download_names"] = sorted(got)
    assert sorted(want) == names, (sorted(want), names)

    # ---- resource ----------------------------------------------------------------------------
    resource = f"{org}/ngc-resource"
    client.registry.resource.create(
        resource,
        application="OTHER",
        framework="Other",
        model_format="scripts",
        precision="OTHER",
        short_description="a resource made by ngcsdk",
    )
    rsrc = os.path.join(work, "resource-src")
    os.makedirs(os.path.join(rsrc, "scripts"), exist_ok=True)
    with open(os.path.join(rsrc, "train.py"), "w") as f:
        f.write("print('train')\n")
    with open(os.path.join(rsrc, "scripts", "run.sh"), "w") as f:
        f.write("#!/bin/sh\necho run\n")
    rwant = digest_tree(rsrc)
    up = client.registry.resource.upload_version(f"{resource}:2.1", source=rsrc, description="r")
    seen["resource_upload_status"] = status_of(up)
    rinfo = client.registry.resource.info(f"{resource}:2.1")
    seen["resource_version"] = {
        "status": rinfo.recipeVersion.status,
        "totalFileCount": rinfo.recipeVersion.totalFileCount,
    }
    rdest = os.path.join(work, "resource-dl")
    os.makedirs(rdest, exist_ok=True)
    rdl = client.registry.resource.download_version(f"{resource}:2.1", destination=rdest)
    seen["resource_download_status"] = status_of(rdl)
    seen["resource_download_matches"] = digest_tree(os.path.join(rdest, "ngc-resource_v2.1")) == rwant

    print(json.dumps(seen, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
