"""Give a fixed-batch YOLO ONNX export a dynamic batch axis, so one ``session.run`` serves many cameras.

``python -m vision_worker dynamic-batch IN.onnx OUT.onnx`` (needs the ``onnx`` package, a dev
dependency: ``pip install onnx``). The exporter bakes the batch size into the graph in two places: the
input/output shapes, and the ``Reshape`` targets of the detection head (``[1, 64, -1]``,
``[1, 4, 16, N]``, ...). The shapes become a symbolic ``batch``; a leading 1 in a Reshape target
becomes 0, which ONNX defines as "copy this dimension from the input", i.e. the batch. The result is
checked by running batch 1 through both models and comparing.

Re-exporting from the training checkpoint gives the same result: with ultralytics,
``YOLO("best.pt").export(format="onnx", imgsz=416, dynamic=True)``; with plain PyTorch,
``torch.onnx.export(..., dynamic_axes={"images": {0: "batch"}, "output0": {0: "batch"}})``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


def _constant_tensors(graph: onnx.GraphProto) -> dict[str, onnx.TensorProto]:
    tensors = {tensor.name: tensor for tensor in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    tensors[node.output[0]] = attribute.t
    return tensors


def _free_batch_dim(value: onnx.ValueInfoProto) -> None:
    dims = value.type.tensor_type.shape.dim
    if dims:
        dims[0].ClearField("dim_value")
        dims[0].dim_param = "batch"


def make_batch_dynamic(source: Path, target: Path) -> int:
    """Write ``target``; returns how many Reshape targets were rewritten. Raises ``ValueError`` for a
    graph whose Reshape targets cannot be freed this way (re-export it with a dynamic axis instead)."""
    model = onnx.load(str(source))
    graph = model.graph
    tensors = _constant_tensors(graph)
    rewritten = 0
    for node in graph.node:
        if node.op_type != "Reshape":
            continue
        tensor = tensors.get(node.input[1])
        if tensor is None:
            continue  # computed at run time from the input's own shape: already batch-agnostic
        shape = numpy_helper.to_array(tensor).copy()
        if shape.size and shape[0] == 1:
            if any(attr.name == "allowzero" and attr.i == 1 for attr in node.attribute):
                raise ValueError(f"{node.name}: allowzero Reshape, 0 would not mean 'copy'")
            shape[0] = 0
            tensor.CopyFrom(numpy_helper.from_array(shape.astype(np.int64), tensor.name))
            rewritten += 1
    for value in [*graph.input, *graph.output]:
        _free_batch_dim(value)
    del graph.value_info[:]  # inferred intermediate shapes still say batch 1; let the runtime infer
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return rewritten
