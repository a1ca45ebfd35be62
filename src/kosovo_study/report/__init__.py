"""Figures, maps, tables and glued numbers built from results (never from refits)."""
