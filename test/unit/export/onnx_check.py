# Runs in: /usr/bin/python3 (Debian's python3-onnx), started by the export tests. Runs the ONNX checker with
# shape inference on an exported model and prints what the test asserts on: opset, IR version, input and
# output names, the operator types used and the metadata.
#
# Usage: onnx_check.py MODEL_ONNX
import json
import sys

import onnx


def main():
    model = onnx.load(sys.argv[1])
    onnx.checker.check_model(model, full_check=True)
    print(
        json.dumps(
            {
                "ir_version": model.ir_version,
                "opsets": {o.domain: o.version for o in model.opset_import},
                "inputs": [i.name for i in model.graph.input],
                "outputs": [o.name for o in model.graph.output],
                "op_types": sorted({n.op_type for n in model.graph.node}),
                "metadata": {p.key: p.value for p in model.metadata_props},
            }
        )
    )


if __name__ == "__main__":
    main()
