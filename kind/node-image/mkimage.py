#!/usr/bin/env python3
"""Write a single-layer docker-archive image (what `docker save` produces) from a directory, without
docker or a registry: every file owned by root, mtime 0, so the same tree gives the same image id.

usage: mkimage.py ROOTFS NAME:TAG OUT.tar [--label k=v ...] [--env K=V ...] [--] [ENTRYPOINT...]
"""
import hashlib
import io
import json
import os
import sys
import tarfile


def layer_tar(rootfs: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for top, dirs, files in os.walk(rootfs):
            dirs.sort()
            for name in dirs + sorted(files):
                path = os.path.join(top, name)
                info = tar.gettarinfo(path, os.path.relpath(path, rootfs))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isfile():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return out.getvalue()


def main(argv: list[str]) -> None:
    rootfs, ref, out, *rest = argv
    labels, env, entrypoint = {}, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], []
    while rest:
        flag = rest.pop(0)
        if flag == "--label":
            k, _, v = rest.pop(0).partition("=")
            labels[k] = v
        elif flag == "--env":
            env.append(rest.pop(0))
        elif flag == "--":
            entrypoint = rest
            break
        else:
            entrypoint = [flag, *rest]
            break
    layer = layer_tar(rootfs)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": entrypoint or None, "Env": env, "Labels": labels or None, "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "purplekind kind/node-image/mkimage.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [ref], "Layers": ["layer.tar"]}]
    with tarfile.open(out, "w") as tar:
        for name, data in [(config_name, config_bytes), ("layer.tar", layer), ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main(sys.argv[1:])
