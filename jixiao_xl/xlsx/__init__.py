"""Everything that writes xlsx: the only importer of xlsxwriter."""
