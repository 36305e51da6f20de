"""Stock checks for incoming orders."""


def normalise(sku):
    """Order SKUs arrive in any case, with stray spaces."""
    return sku.strip().upper()


def count_known(orders, catalogue):
    """How many of the order SKUs are in the catalogue."""
    catalogue = set(catalogue)
    return sum(1 for sku in orders if sku in catalogue)
