"""Demo customer service (客服), in Chinese and English: product questions with
the shop's and a buyer's answers, a conversation with a product and an order
card, canned replies, and tickets to a shop (one escalated) and to the
platform. Written through the service functions, as real use would."""

from shopyard.catalog.queries import visible_products
from shopyard.orders.models import Order
from shopyard.service import conversations, qa, tickets
from shopyard.shops.models import ShopMember

QUESTIONS = [
    ("这款支持快充吗？ / Does it support fast charging?", "支持 20W 快充 / Yes, 20 W fast charging."),
    ("尺码偏大还是偏小？ / Does it run large or small?", "正常尺码，按平时买就好 / True to size."),
    ("发什么快递？ / Which courier do you use?", "默认顺丰 / SF Express by default."),
]

CANNED = [
    ("问候 / Greeting", "您好，很高兴为您服务！/ Hello, happy to help!"),
    ("发货时间 / Dispatch time", "付款后 48 小时内发货。/ We ship within 48 hours of payment."),
    ("退换货 / Returns", "签收 7 天内可无理由退货。/ Returns accepted within 7 days of receipt."),
]


def load_service(*, shops, users) -> int:
    """Returns how many questions, conversations and tickets it wrote."""
    shopper = users["shopper"]
    operator = users["operator"]
    written = 0
    for key, shop in shops.items():
        owner = ShopMember.objects.filter(shop=shop, role=ShopMember.Role.OWNER).first()
        product = visible_products().filter(shop=shop).order_by("pk").first()
        if owner is None or product is None:
            continue
        owner = owner.user
        for text, answer in QUESTIONS[: 2 if key == "self" else 1]:
            question = qa.ask_question(actor=shopper, product_id=product.pk, text=text)
            qa.answer_question(actor=owner, shop=shop, question_id=question.pk, text=answer)
            written += 1
        for title, body in CANNED:
            conversations.create_canned_reply(actor=owner, shop=shop, title=title, body=body)
    # a buyer's answer on a product the shopper received, and one unanswered question
    order = Order.objects.filter(user=shopper, status__in=["completed", "delivered", "shipped", "paid"]).order_by(
        "pk").first()
    if order is not None:
        line = order.lines.select_related("sku").first()
        shop = order.shop
        owner = ShopMember.objects.filter(shop=shop).first().user
        question = qa.ask_question(actor=users.get("seller2", operator), product_id=line.sku.product_id,
                                   text="用起来怎么样？ / How is it in daily use?")
        qa.answer_question(actor=shopper, question_id=question.pk, text="很好用，推荐 / Works well, recommended.")
        qa.ask_question(actor=shopper, product_id=line.sku.product_id, text="有发票吗？ / Do you issue invoices?")
        # a conversation about the order, answered and closed, then a new question
        conv = conversations.open_conversation(actor=shopper, shop_id=shop.pk, product_id=line.sku.product_id,
                                               order_id=order.pk)
        conversations.send_message(actor=shopper, conversation_id=conv.pk,
                                   body="请问什么时候发货？ / When will it ship?")
        conversations.send_message(actor=owner, shop=shop, conversation_id=conv.pk,
                                   body="已安排今天发出 / It ships today.")
        conversations.close(actor=owner, shop=shop, conversation_id=conv.pk)
        conversations.send_message(actor=shopper, conversation_id=conv.pk, body="谢谢！/ Thanks!")
        # tickets: to the shop (one escalated), and to the platform
        first = tickets.open_ticket(actor=shopper, shop_id=shop.pk, order_id=order.pk, category="delivery",
                                    priority="high", subject="物流太慢 / Delivery is slow",
                                    body="三天没有物流更新 / No tracking update for three days.")
        tickets.add_message(actor=owner, shop=shop, ticket_id=first.pk, body="已联系快递 / Contacted the courier",
                            internal=False)
        tickets.add_message(actor=owner, shop=shop, ticket_id=first.pk, internal=True,
                            body="内部：快递站爆仓 / Internal: the depot is overloaded")
        tickets.act(actor=owner, shop=shop, ticket_id=first.pk, action="start")
        tickets.escalate(actor=shopper, ticket_id=first.pk, reason="商家没有解决 / The shop did not solve it")
        tickets.open_ticket(actor=shopper, category="account", priority="normal",
                            subject="无法修改手机号 / Cannot change my phone number",
                            body="提示验证码错误 / It says the code is wrong.")
        written += 3
    return written
