"""Security and robustness tests, one module per class of attack."""
