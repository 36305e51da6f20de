"""The daily stock report."""
from shop.inventory import count_known, normalise


def daily_report(orders, catalogue):
    """Orders received today, and how many of them we stock."""
    orders = [normalise(sku) for sku in orders]
    return {"orders": len(orders), "known": count_known(orders, catalogue)}
