"""Matching science: the bundled static model, embeddings, the decision rule, calibration, adaptation."""
