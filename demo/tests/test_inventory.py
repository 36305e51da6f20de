import unittest

from shop.inventory import count_known, normalise
from shop.report import daily_report

CATALOGUE = [f"SKU-{i:06d}" for i in range(3000)]
ORDERS = [f" sku-{i * 7 % 6000:06d}" for i in range(2000)]


class InventoryTest(unittest.TestCase):
    def test_normalise(self):
        self.assertEqual(normalise("  sku-000001 "), "SKU-000001")

    def test_count_known_small(self):
        self.assertEqual(count_known(["a", "b", "c"], ["a", "c"]), 2)

    def test_daily_report(self):
        self.assertEqual(daily_report(ORDERS, CATALOGUE), {"orders": 2000, "known": 1142})
