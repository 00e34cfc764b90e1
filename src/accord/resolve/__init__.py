"""Identity resolution: block, compare, score (Fellegi-Sunter), cluster, stable person ids."""
