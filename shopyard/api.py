from ninja import NinjaAPI

api = NinjaAPI(title="Shopyard API", version="1")
