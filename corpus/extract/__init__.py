"""corpus/extract."""
