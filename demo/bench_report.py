"""The shop's own workload: a week of daily reports on realistic data."""
from shop.report import daily_report

CATALOGUE = [f"SKU-{i:06d}" for i in range(3000)]
ORDERS = [f" sku-{i * 7 % 6000:06d}" for i in range(2000)]

if __name__ == "__main__":
    for day in range(7):
        report = daily_report(ORDERS, CATALOGUE)
    print(report)
