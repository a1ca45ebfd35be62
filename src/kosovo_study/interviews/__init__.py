"""Coded interviews: codebook, importers, pseudonymisation, reliability, synthetic corpus."""
