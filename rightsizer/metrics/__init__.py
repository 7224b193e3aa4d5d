"""Metric series: the store (CloudWatch-style names), statistics and the samplers."""
