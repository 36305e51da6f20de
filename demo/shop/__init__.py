"""A tiny shop: the example project of `abbench demo`."""
