from tests.support.panel import Panel


def test_balance_after_an_order(panel: Panel) -> None:
    key = panel.customer(balance="10")
    service = panel.service(rate="0.90")
    assert panel.call(key, "add", service=service, link="https://x.test/a", quantity=1000) == {"order": 1}
    assert panel.call(key, "balance") == {"balance": "9.10", "currency": "USD"}
    assert panel.ledger_ok()
