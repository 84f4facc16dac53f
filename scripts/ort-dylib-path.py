#!/usr/bin/env python3
"""Prints the path of libonnxruntime.so inside the installed `onnxruntime` wheel, for
ORT_DYLIB_PATH:  export ORT_DYLIB_PATH=$(python3 scripts/ort-dylib-path.py)"""

import pathlib
import sys

import onnxruntime

capi = pathlib.Path(onnxruntime.__file__).parent / "capi"
libraries = sorted(capi.glob("libonnxruntime.so*"))
if not libraries:
    sys.exit(f"no libonnxruntime.so in {capi}")
print(libraries[0])
