"""Sample data copied from the reference data: production tasks, catalog, customers, orders."""

from __future__ import annotations

from typing import Any

from drivers.escpos.document import ean_check_digit

TASKS: list[dict[str, Any]] = [
    {"task_no": "SC-20261129-001", "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
     "qty": 1000, "split_size": 80,
     "route": [{"step": 10, "name": "下料", "rate_fen": 5},
               {"step": 20, "name": "冲压", "rate_fen": 8},
               {"step": 30, "name": "焊接", "rate_fen": 12},
               {"step": 40, "name": "抛光", "rate_fen": 6},
               {"step": 50, "name": "质检", "rate_fen": 3},
               {"step": 60, "name": "包装", "rate_fen": 2}]},
    {"task_no": "SC-20261129-002", "product": {"code": "CP-3302", "name": "速冻手抓饼 20片装"},
     "qty": 2400, "split_size": 200,
     "route": [{"step": 10, "name": "和面"}, {"step": 20, "name": "压片"},
               {"step": 30, "name": "速冻"}, {"step": 40, "name": "包装"}]},
]

# Catalog items as in the reference data. Their barcodes carry wrong EAN-13 check digits.
CATALOG: list[dict[str, Any]] = [
    {"sku": "JC-1001", "name": "不锈钢合页 4寸", "spec": "304 / 2.5mm", "unit": "片", "price": 850,
     "member_price": 780, "barcode": "6901234500017"},
    {"sku": "JC-1003", "name": "十字沉头自攻螺丝", "spec": "M4×30 (500只/盒)", "unit": "盒",
     "price": 1800, "member_price": 1650, "barcode": "6901234500031"},
    {"sku": "JC-6001", "name": "恒温花洒套装", "spec": "含升降杆", "unit": "套", "price": 129900,
     "member_price": 119900, "barcode": "6901234500123"},
    {"sku": "DP-1001", "name": "猪肉白菜水饺", "spec": "1kg/袋", "unit": "袋", "price": 2590,
     "member_price": 2390, "barcode": "6902345600018"},
    {"sku": "TX-1001", "name": "智能手机 8+256G 曜石黑", "spec": "5G 全网通", "unit": "台",
     "price": 249900, "member_price": 239900, "barcode": "6903456700015"},
]

CUSTOMERS: dict[str, dict[str, str]] = {
    "K001": {"name": "永盛装饰工程有限公司", "address": "龙湖春森彼岸3栋", "phone": "13800138001"},
    "K002": {"name": "永盛五金店", "address": "重庆市渝北区两路镇空港大道88号",
             "phone": "13900139002"},
    "K003": {"name": "永盛家装", "address": "重庆市江北区建新北路16号", "phone": "13700137003"},
    "K004": {"name": "川味小馆", "address": "成都市武侯区玉林西路32号", "phone": "13600136004"},
}

ORDERS: list[dict[str, str]] = [
    {"order_no": "XS-20261129-0041", "customer": "K002", "route": "江北-观音桥线"},
    {"order_no": "XS-20261129-0042", "customer": "K003", "route": "江北-观音桥线"},
    {"order_no": "XS-20261129-0043", "customer": "K001", "route": "江北-观音桥线"},
]


def flow_card_data(task: dict[str, Any], split: int, size: str = "60x40") -> dict[str, Any]:
    """Flow-card template data for container `split` of a production task."""
    of = -(-task["qty"] // task["split_size"])
    qty = min(task["split_size"], task["qty"] - (split - 1) * task["split_size"])
    return {"task_no": task["task_no"], "split": f"{split}/{of}",
            "product_code": task["product"]["code"], "product_name": task["product"]["name"],
            "qty": qty, "route": task["route"], "date": "2026-11-29", "size": size}


def price_data(item: dict[str, Any]) -> dict[str, Any]:
    """Price-label data for a catalog item, its EAN-13 check digit corrected."""
    code = item["barcode"][:12] + str(ean_check_digit(item["barcode"][:12]))
    return {k: item[k] for k in ("name", "spec", "unit", "price", "member_price", "sku")} | {
        "barcode": code}


def shipping_data(order: dict[str, str], parcel: str = "1/3") -> dict[str, Any]:
    """Shipping-label data for an order."""
    c = CUSTOMERS[order["customer"]]
    return {"order_no": order["order_no"], "customer": c["name"], "customer_id": order["customer"],
            "address": c["address"], "phone": c["phone"], "parcel": parcel,
            "route": order["route"], "date": "2026-11-29"}
