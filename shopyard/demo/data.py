"""The demo catalogue as plain data: accounts, shops, a two-level category
tree, brands and 84 products in Chinese and English, each with the
attributes its SKUs vary on and the price difference each option makes."""

# --- accounts -------------------------------------------------------------
# (role label, username, password, flags)
ACCOUNTS = [
    {"role": "operator", "username": "operator", "password": "operator123", "staff": True, "superuser": True,
     "first_name": "Olivia", "last_name": "Chen", "email": "operator@shopyard.example"},
    {"role": "shopper", "username": "shopper", "password": "shopper123",
     "first_name": "晓明", "last_name": "李", "email": "shopper@shopyard.example", "phone": "13812345678"},
    {"role": "seller", "username": "seller", "password": "seller123", "shop": "galaxy-digital",
     "first_name": "星", "last_name": "何", "email": "seller@shopyard.example"},
    {"role": "seller", "username": "seller2", "password": "seller123", "shop": "aoki-home",
     "first_name": "青", "last_name": "木", "email": "seller2@shopyard.example"},
    {"role": "seller", "username": "seller3", "password": "seller123", "shop": "kapok-wardrobe",
     "first_name": "木棉", "last_name": "林", "email": "seller3@shopyard.example"},
    {"role": "platform staff", "username": "platform", "password": "platform123", "staff": True,
     "shop": "shopyard-self", "first_name": "Platform", "last_name": "Ops", "email": "platform@shopyard.example"},
]

SHOPPER_ADDRESSES = [
    {"recipient": "李晓明", "phone": "13812345678", "province": "上海市", "city": "上海市", "district": "浦东新区",
     "detail": "张江镇博云路 2 号浦东软件园 3 幢 502 室", "postcode": "201203", "default": True},
    {"recipient": "王芳", "phone": "13998765432", "province": "广东省", "city": "深圳市", "district": "南山区",
     "detail": "粤海街道深南大道 9988 号华润置地大厦 E 座 12 楼", "postcode": "518057", "default": False},
]

# --- shops ----------------------------------------------------------------
SHOPS = {
    "self": {"slug": "shopyard-self", "code": "SY", "name": "自营旗舰店", "name_en": "Shopyard Self-operated",
             "kind": "self_operated", "fee": "0.00", "free_over": None,
             "description": "平台自营，正品保障，全场包邮，次日达。"},
    "gd": {"slug": "galaxy-digital", "code": "GD", "name": "星河数码", "name_en": "Galaxy Digital",
           "kind": "seller", "fee": "10.00", "free_over": "199.00",
           "description": "手机、耳机、电脑与智能穿戴，官方授权，全国联保。"},
    "ak": {"slug": "aoki-home", "code": "AK", "name": "青木家居", "name_en": "Aoki Home",
           "kind": "seller", "fee": "8.00", "free_over": "99.00",
           "description": "简约日式家居：厨具、床品与生活小物。"},
    "fs": {"slug": "kapok-wardrobe", "code": "KW", "name": "木棉衣橱", "name_en": "Kapok Wardrobe",
           "kind": "seller", "fee": "10.00", "free_over": "199.00",
           "description": "舒适百搭的男女装，七天无理由退换。"},
}
SHOP_PROMISE = {
    "self": ("平台自营，正品保障，全场包邮。", "Sold and shipped by Shopyard: genuine goods, free delivery."),
    "gd": ("官方授权，全国联保，满 199 元包邮。", "Authorised dealer with nationwide warranty; free delivery over ¥199."),
    "ak": ("七天无理由退货，满 99 元包邮。", "7-day no-questions returns; free delivery over ¥99."),
    "fs": ("支持试穿，七天无理由退换，满 199 元包邮。", "Try on at home, 7-day returns; free delivery over ¥199."),
}

# --- categories: (slug, name, name_en, children) ---------------------------
CATEGORIES = [
    ("digital", "手机数码", "Phones & Digital", [
        ("phones", "手机", "Phones"),
        ("headphones", "耳机", "Headphones"),
        ("computers", "电脑平板", "Laptops & Tablets"),
        ("wearables", "智能穿戴", "Wearables"),
    ]),
    ("clothing", "服装", "Clothing", [
        ("menswear", "男装", "Menswear"),
        ("womenswear", "女装", "Womenswear"),
    ]),
    ("home", "家居", "Home", [
        ("kitchen", "厨具", "Kitchenware"),
        ("bedding", "床品", "Bedding"),
    ]),
    ("beauty", "美妆", "Beauty", [
        ("skincare", "护肤", "Skincare"),
        ("makeup", "彩妆", "Makeup"),
    ]),
    ("food", "食品", "Food", [
        ("snacks", "零食", "Snacks"),
        ("tea", "茶饮", "Tea & Coffee"),
    ]),
]

BRANDS = {
    "galaxy": ("星河", "Galaxy"), "lime": ("青柠", "Lime"), "soundjoy": ("声悦", "SoundJoy"),
    "kapok": ("木棉", "Kapok"), "aoki": ("青木", "Aoki"), "jiangxin": ("匠心", "Jiangxin"),
    "yunmian": ("云眠", "Yunmian"), "camellia": ("山茶", "Camellia"), "zhuyan": ("朱颜", "Zhuyan"),
    "xiaoshi": ("小食光", "Snack Time"), "chayuan": ("茶源", "Chayuan"),
}

# --- attribute option sets: (value, value_en, price delta) ----------------
def _opts(*rows):
    return [(zh, en, delta) for zh, en, delta in rows]


PHONE_COLOURS = _opts(("曜石黑", "Obsidian Black", 0), ("冰川银", "Glacier Silver", 0),
                      ("远峰蓝", "Sierra Blue", 0), ("青山绿", "Mountain Green", 0))
CAPACITY = _opts(("128GB", "128GB", 0), ("256GB", "256GB", 500), ("512GB", "512GB", 1500))
CAPACITY_SMALL = _opts(("8GB+128GB", "8GB+128GB", 0), ("8GB+256GB", "8GB+256GB", 300))
AUDIO_COLOURS = _opts(("象牙白", "Ivory White", 0), ("星空黑", "Starry Black", 0), ("薄荷绿", "Mint Green", 0))
LAPTOP_CONFIG = _opts(("16GB+512GB", "16GB+512GB", 0), ("32GB+1TB", "32GB+1TB", 2000))
LAPTOP_COLOURS = _opts(("深空灰", "Space Grey", 0), ("皓月银", "Moon Silver", 0))
WATCH_SIZE = _opts(("41mm", "41mm", 0), ("45mm", "45mm", 200))
WATCH_COLOURS = _opts(("午夜黑", "Midnight Black", 0), ("星光金", "Starlight Gold", 0), ("松石蓝", "Turquoise Blue", 0))
KIDS_COLOURS = _opts(("糖果粉", "Candy Pink", 0), ("海洋蓝", "Ocean Blue", 0))
MEN_COLOURS = _opts(("白色", "White", 0), ("藏青", "Navy", 0), ("卡其", "Khaki", 0), ("黑色", "Black", 0))
WOMEN_COLOURS = _opts(("奶油白", "Cream", 0), ("雾霾蓝", "Haze Blue", 0), ("豆沙粉", "Rose Pink", 0))
MEN_SIZES = _opts(("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 0), ("XXL", "XXL", 10))
WOMEN_SIZES = _opts(("S", "S", 0), ("M", "M", 0), ("L", "L", 0), ("XL", "XL", 0))
WOK_SIZE = _opts(("28cm", "28cm", 0), ("30cm", "30cm", 30), ("32cm", "32cm", 60))
POT_COLOURS = _opts(("樱桃红", "Cherry Red", 0), ("橄榄绿", "Olive Green", 0), ("奶白", "Cream", 0))
POT_SIZE = _opts(("20cm", "20cm", 0), ("24cm", "24cm", 120))
KNIFE_SIZE = _opts(("6 寸", "6 inch", 0), ("8 寸", "8 inch", 80))
SET_SIZE = _opts(("三件套", "3-piece", 0), ("五件套", "5-piece", 40))
MUG_COLOURS = _opts(("雾白", "Mist White", 0), ("湖蓝", "Lake Blue", 0), ("砖红", "Brick Red", 0))
BED_SIZE = _opts(("1.5 米床", "1.5 m bed", 0), ("1.8 米床", "1.8 m bed", 60), ("2.0 米床", "2.0 m bed", 100))
BED_SIZE_BIG = _opts(("150×200cm", "150×200cm", 0), ("200×230cm", "200×230cm", 300))
BED_COLOURS = _opts(("月白", "Moon White", 0), ("灰蓝", "Grey Blue", 0), ("燕麦", "Oat Beige", 0))
PILLOW = _opts(("标准款", "Standard", 0), ("加高款", "High loft", 30))
SERUM = _opts(("30ml", "30ml", 0), ("50ml", "50ml", 120))
CLEANSER = _opts(("120g", "120g", 0), ("200g", "200g", 40))
MASK = _opts(("10 片", "10 sheets", 0), ("20 片", "20 sheets", 80))
LIP_SHADES = _opts(("#01 正红", "#01 Classic Red", 0), ("#02 豆沙", "#02 Rose Pink", 0),
                   ("#03 枫叶", "#03 Maple Brown", 0), ("#04 珊瑚", "#04 Coral Orange", 0))
BASE_SHADES = _opts(("象牙白", "Ivory White", 0), ("自然色", "Natural Beige", 0), ("小麦色", "Wheat Khaki", 0))
LINER = _opts(("黑色", "Black", 0), ("棕色", "Brown", 0))
NUTS = _opts(("750g (30 包)", "750g (30 packs)", 0), ("1.5kg (60 包)", "1.5kg (60 packs)", 90))
JERKY = _opts(("250g", "250g", 0), ("500g", "500g", 60))
DATES = _opts(("500g", "500g", 0), ("1kg", "1kg", 30), ("2.5kg", "2.5kg", 80))
BREAD = _opts(("1kg 整箱", "1kg box", 0), ("2kg 整箱", "2kg box", 25))
SEAWEED = _opts(("36g", "36g", 0), ("100g", "100g", 15))
CAKES = _opts(("6 枚装", "6 pieces", 0), ("12 枚装", "12 pieces", 30))
TEA_WEIGHT = _opts(("100g", "100g", 0), ("250g", "250g", 0))  # price set per weight below
TEA_CAKE = _opts(("357g 单饼", "357g cake", 0), ("357g × 7 提", "7 × 357g tong", 700))
COFFEE = _opts(("24 颗", "24 cups", 0), ("48 颗", "48 cups", 70))
POWER_COLOURS = _opts(("白色", "White", 0), ("黑色", "Black", 0))


def A(name, name_en, options):  # noqa: N802 - reads like a declaration
    return (name, name_en, options)


COLOUR = "颜色", "Colour"
SIZE = "尺码", "Size"

# --- products --------------------------------------------------------------
# keys: cat, shop, brand, title, title_en, kind, price, attrs, pitch (zh), pitch_en
PRODUCTS = [
    # phones
    dict(cat="phones", shop="gd", brand="galaxy", title="星河 X20 Pro 5G 智能手机", title_en="Galaxy X20 Pro 5G Smartphone",
         kind="phone", price="4999.00", attrs=[A(*COLOUR, PHONE_COLOURS), A("存储容量", "Storage", CAPACITY)],
         pitch="6.7 英寸 2K 曲面屏，5000 万像素三摄，5000mAh 电池支持 100W 快充",
         pitch_en="6.7-inch 2K curved display, 50 MP triple camera, 5000 mAh battery with 100 W fast charging"),
    dict(cat="phones", shop="gd", brand="galaxy", title="星河 X20 5G 手机", title_en="Galaxy X20 5G Phone",
         kind="phone", price="3299.00", attrs=[A(*COLOUR, PHONE_COLOURS[:3]), A("存储容量", "Storage", CAPACITY[:2])],
         pitch="轻薄机身仅 7.9mm，120Hz 高刷直屏，影像旗舰同款主摄",
         pitch_en="Only 7.9 mm thin, 120 Hz flat display and the flagship's main camera"),
    dict(cat="phones", shop="gd", brand="galaxy", title="星河 Lite 8 长续航手机", title_en="Galaxy Lite 8 Long-battery Phone",
         kind="phone", price="1299.00", attrs=[A(*COLOUR, PHONE_COLOURS[:2]), A("存储容量", "Storage", CAPACITY_SMALL)],
         pitch="6000mAh 超大电池，两天一充，老人学生都合适",
         pitch_en="A 6000 mAh battery that lasts two days, great for students and parents"),
    dict(cat="phones", shop="self", brand="lime", title="青柠 Mini 4 小屏手机", title_en="Lime Mini 4 Compact Phone",
         kind="phone", price="2599.00", attrs=[A(*COLOUR, PHONE_COLOURS[1:]), A("存储容量", "Storage", CAPACITY[:2])],
         pitch="5.9 英寸单手握持，骁龙芯片，IP68 防水",
         pitch_en="A 5.9-inch phone that fits one hand, with a Snapdragon chip and IP68 water resistance"),
    dict(cat="phones", shop="gd", brand="galaxy", title="星河 Fold 3 折叠屏手机", title_en="Galaxy Fold 3 Foldable Phone",
         kind="phone", price="8999.00", attrs=[A(*COLOUR, PHONE_COLOURS[:2]), A("存储容量", "Storage", CAPACITY[1:])],
         pitch="展开 7.8 英寸大屏，无缝铰链，多窗口办公",
         pitch_en="Unfolds into a 7.8-inch screen with a gap-free hinge and multi-window multitasking"),
    dict(cat="phones", shop="self", brand="lime", title="青柠 Note 12 大屏手机", title_en="Lime Note 12 Big-screen Phone",
         kind="phone", price="1799.00", attrs=[A(*COLOUR, PHONE_COLOURS), A("存储容量", "Storage", CAPACITY_SMALL)],
         pitch="6.8 英寸护眼大屏，立体声双扬声器，追剧更过瘾",
         pitch_en="6.8-inch eye-care display and stereo speakers for binge-watching"),
    dict(cat="phones", shop="self", brand="lime", title="青柠 10000mAh 快充移动电源", title_en="Lime 10000mAh Fast-charge Power Bank",
         kind="phone", price="99.00", attrs=[A(*COLOUR, POWER_COLOURS)],
         pitch="22.5W 双向快充，可带上飞机，手机充两次",
         pitch_en="22.5 W fast charging both ways, airline-safe, charges a phone twice"),
    # headphones
    dict(cat="headphones", shop="gd", brand="galaxy", title="星河 Buds Pro 主动降噪真无线耳机", title_en="Galaxy Buds Pro ANC True Wireless Earbuds",
         kind="headphones", price="699.00", attrs=[A(*COLOUR, AUDIO_COLOURS)],
         pitch="48dB 深度降噪，空间音频，单次续航 8 小时",
         pitch_en="48 dB active noise cancelling, spatial audio, 8 hours per charge"),
    dict(cat="headphones", shop="gd", brand="galaxy", title="星河 Buds Air 半入耳式蓝牙耳机", title_en="Galaxy Buds Air Semi-in-ear Earbuds",
         kind="headphones", price="299.00", attrs=[A(*COLOUR, AUDIO_COLOURS[:2])],
         pitch="半入耳舒适佩戴，低延迟游戏模式，通话降噪",
         pitch_en="Comfortable semi-in-ear fit, low-latency gaming mode, noise-reduced calls"),
    dict(cat="headphones", shop="gd", brand="soundjoy", title="声悦 H7 头戴式降噪耳机", title_en="SoundJoy H7 Over-ear ANC Headphones",
         kind="headphones", price="1299.00", attrs=[A(*COLOUR, AUDIO_COLOURS[:2])],
         pitch="40mm 动圈单元，Hi-Res 认证，60 小时超长续航",
         pitch_en="40 mm drivers, Hi-Res certified, 60 hours of playback"),
    dict(cat="headphones", shop="self", brand="soundjoy", title="声悦 Sport 运动挂耳耳机", title_en="SoundJoy Sport Ear-hook Headphones",
         kind="headphones", price="199.00", attrs=[A(*COLOUR, AUDIO_COLOURS)],
         pitch="挂耳式设计跑步不掉，IPX5 防汗防水",
         pitch_en="Ear hooks that stay put on a run, IPX5 sweat and water resistance"),
    dict(cat="headphones", shop="self", brand="soundjoy", title="声悦 Studio 有线监听耳机", title_en="SoundJoy Studio Wired Monitor Headphones",
         kind="headphones", price="459.00", attrs=[A("线材", "Cable", _opts(("3.5mm", "3.5mm", 0), ("6.35mm + 3.5mm", "6.35mm + 3.5mm", 40)))],
         pitch="录音室级平直音色，可拆卸线材，折叠收纳",
         pitch_en="Flat studio sound, detachable cable, folds flat"),
    dict(cat="headphones", shop="gd", brand="galaxy", title="星河 Kids 儿童护耳耳机", title_en="Galaxy Kids Volume-safe Headphones",
         kind="headphones", price="149.00", attrs=[A(*COLOUR, KIDS_COLOURS)],
         pitch="85dB 音量限制保护听力，轻至 150g",
         pitch_en="85 dB volume limit protects young ears, only 150 g"),
    # computers
    dict(cat="computers", shop="gd", brand="galaxy", title="星河 Book 14 轻薄笔记本", title_en="Galaxy Book 14 Ultralight Laptop",
         kind="laptop", price="5499.00", attrs=[A("配置", "Configuration", LAPTOP_CONFIG), A(*COLOUR, LAPTOP_COLOURS)],
         pitch="1.2kg 全金属机身，2.8K OLED 屏，续航 14 小时",
         pitch_en="1.2 kg all-metal body, 2.8K OLED display, 14-hour battery"),
    dict(cat="computers", shop="gd", brand="galaxy", title="星河 Book 16 创作本", title_en="Galaxy Book 16 Creator Laptop",
         kind="laptop", price="8999.00", attrs=[A("配置", "Configuration", LAPTOP_CONFIG)],
         pitch="16 英寸 3.2K 100% P3 色域屏，独立显卡，剪辑渲染不卡顿",
         pitch_en="16-inch 3.2K display with 100% P3, discrete graphics for smooth editing"),
    dict(cat="computers", shop="self", brand="lime", title="青柠 Air 13 学生笔记本", title_en="Lime Air 13 Student Laptop",
         kind="laptop", price="3699.00", attrs=[A("配置", "Configuration", _opts(("8GB+256GB", "8GB+256GB", 0), ("16GB+512GB", "16GB+512GB", 600)))],
         pitch="轻薄便携，网课办公全能，附赠正版办公软件",
         pitch_en="Light enough for every class, ready for study and office work, office suite included"),
    dict(cat="computers", shop="gd", brand="galaxy", title="星河 Pad 11 平板电脑", title_en="Galaxy Pad 11 Tablet",
         kind="phone", price="2299.00", attrs=[A("存储容量", "Storage", CAPACITY[:2]), A(*COLOUR, LAPTOP_COLOURS)],
         pitch="11 英寸 2.5K 护眼屏，支持手写笔与键盘",
         pitch_en="11-inch 2.5K eye-care screen, works with stylus and keyboard"),
    dict(cat="computers", shop="gd", brand="galaxy", title="星河 Play 15 游戏本", title_en="Galaxy Play 15 Gaming Laptop",
         kind="laptop", price="7499.00", attrs=[A("配置", "Configuration", LAPTOP_CONFIG)],
         pitch="165Hz 电竞屏，双风扇散热，RGB 背光键盘",
         pitch_en="165 Hz gaming display, dual-fan cooling, RGB backlit keyboard"),
    dict(cat="computers", shop="self", brand="lime", title="青柠 Pad Mini 8 小平板", title_en="Lime Pad Mini 8 Compact Tablet",
         kind="phone", price="1599.00", attrs=[A("存储容量", "Storage", CAPACITY[:2]), A(*COLOUR, LAPTOP_COLOURS)],
         pitch="8.4 英寸单手握持，追剧看书两相宜，支持 4G 通话",
         pitch_en="An 8.4-inch tablet that fits one hand, for shows and books, with 4G calling"),
    dict(cat="computers", shop="gd", brand="galaxy", title="星河 Book 13 二合一笔记本", title_en="Galaxy Book 13 2-in-1 Laptop",
         kind="laptop", price="6299.00", attrs=[A("配置", "Configuration", LAPTOP_CONFIG), A(*COLOUR, LAPTOP_COLOURS)],
         pitch="360° 翻转触控屏，随附手写笔，会议笔记随手记",
         pitch_en="A 360° touch screen that folds into a tablet, stylus included for meeting notes"),
    dict(cat="computers", shop="self", brand="lime", title="青柠 Mini 主机", title_en="Lime Mini Desktop PC",
         kind="laptop", price="2999.00", attrs=[A("配置", "Configuration", LAPTOP_CONFIG)],
         pitch="一只手掌大小，四屏输出，安静省电的办公主机",
         pitch_en="Palm-sized desktop driving four screens, quiet and frugal for the office"),
    dict(cat="computers", shop="gd", brand="galaxy", title="星河 27 英寸 4K 显示器", title_en="Galaxy 27-inch 4K Monitor",
         kind="laptop", price="1899.00", attrs=[A(*COLOUR, LAPTOP_COLOURS)],
         pitch="4K IPS 屏，Type-C 一线连接 65W 供电，升降旋转支架",
         pitch_en="4K IPS panel, one USB-C cable with 65 W charging, height-adjustable stand"),
    # wearables
    dict(cat="wearables", shop="gd", brand="galaxy", title="星河 Watch 5 智能手表", title_en="Galaxy Watch 5 Smartwatch",
         kind="watch", price="1599.00", attrs=[A(*COLOUR, WATCH_COLOURS), A("表盘尺寸", "Case size", WATCH_SIZE)],
         pitch="心率血氧全天监测，100+ 运动模式，eSIM 独立通话",
         pitch_en="All-day heart-rate and SpO2, 100+ workout modes, eSIM calls"),
    dict(cat="wearables", shop="gd", brand="galaxy", title="星河 Band 8 运动手环", title_en="Galaxy Band 8 Fitness Band",
         kind="watch", price="249.00", attrs=[A(*COLOUR, WATCH_COLOURS)],
         pitch="1.6 英寸 AMOLED 屏，14 天续航，睡眠监测",
         pitch_en="1.6-inch AMOLED, 14-day battery, sleep tracking"),
    dict(cat="wearables", shop="self", brand="lime", title="青柠 Watch SE 儿童电话手表", title_en="Lime Watch SE Kids Phone Watch",
         kind="watch", price="699.00", attrs=[A(*COLOUR, KIDS_COLOURS)],
         pitch="4G 视频通话，精准定位，上课禁用模式",
         pitch_en="4G video calls, precise location, school mode"),
    dict(cat="wearables", shop="gd", brand="galaxy", title="星河 Watch Ultra 户外手表", title_en="Galaxy Watch Ultra Outdoor Watch",
         kind="watch", price="3299.00", attrs=[A(*COLOUR, WATCH_COLOURS[:2])],
         pitch="钛合金表壳，双频 GPS，100 米防水",
         pitch_en="Titanium case, dual-band GPS, water resistant to 100 m"),
    dict(cat="wearables", shop="self", brand="lime", title="青柠 Band 3 轻薄手环", title_en="Lime Band 3 Slim Band",
         kind="watch", price="169.00", attrs=[A(*COLOUR, WATCH_COLOURS)],
         pitch="仅 16g 轻盈佩戴，支付公交一带搞定，21 天续航",
         pitch_en="Only 16 g, pays for buses and coffee, 21-day battery"),
    dict(cat="wearables", shop="gd", brand="soundjoy", title="声悦 骨传导运动耳机", title_en="SoundJoy Bone-conduction Sport Headphones",
         kind="headphones", price="499.00", attrs=[A(*COLOUR, AUDIO_COLOURS)],
         pitch="开放双耳，跑步骑行听得见路况，IP67 防汗",
         pitch_en="Open ears that still hear the road while running or cycling, IP67 sweat-proof"),
    dict(cat="wearables", shop="gd", brand="galaxy", title="星河 Ring 智能戒指", title_en="Galaxy Ring Smart Ring",
         kind="watch", price="1299.00", attrs=[A("尺寸", "Size", _opts(("8 号", "Size 8", 0), ("10 号", "Size 10", 0), ("12 号", "Size 12", 0)))],
         pitch="钛合金戒身，睡眠与心率监测，7 天续航",
         pitch_en="Titanium ring tracking sleep and heart rate, 7-day battery"),
    dict(cat="wearables", shop="self", brand="lime", title="青柠 Watch 3 健康手表", title_en="Lime Watch 3 Health Watch",
         kind="watch", price="899.00", attrs=[A(*COLOUR, WATCH_COLOURS), A("表盘尺寸", "Case size", WATCH_SIZE)],
         pitch="血压趋势与睡眠呼吸提醒，送长辈的贴心手表",
         pitch_en="Blood-pressure trends and sleep-breathing alerts: a caring gift for parents"),
    # menswear
    dict(cat="menswear", shop="fs", brand="kapok", title="男士纯棉圆领短袖 T 恤", title_en="Men's Cotton Crew-neck T-shirt",
         kind="shirt", price="79.00", attrs=[A(*COLOUR, MEN_COLOURS), A(*SIZE, MEN_SIZES)],
         pitch="新疆长绒棉，220g 重磅面料，不易变形", pitch_en="Xinjiang long-staple cotton, 220 g heavyweight jersey that keeps its shape"),
    dict(cat="menswear", shop="fs", brand="kapok", title="男士商务免烫长袖衬衫", title_en="Men's Non-iron Business Shirt",
         kind="shirt", price="199.00", attrs=[A(*COLOUR, MEN_COLOURS[:2]), A(*SIZE, MEN_SIZES)],
         pitch="液氨免烫工艺，洗后无需熨烫，挺括有型", pitch_en="Liquid-ammonia finish: no ironing after washing, stays crisp"),
    dict(cat="menswear", shop="fs", brand="kapok", title="男士轻薄羽绒服", title_en="Men's Lightweight Down Jacket",
         kind="shirt", price="499.00", attrs=[A(*COLOUR, MEN_COLOURS[1:]), A(*SIZE, MEN_SIZES[1:])],
         pitch="90% 白鸭绒，可收纳成小包，轻暖随行", pitch_en="90% white duck down, packs into its own pouch"),
    dict(cat="menswear", shop="fs", brand="kapok", title="男士休闲连帽卫衣", title_en="Men's Casual Hoodie",
         kind="shirt", price="169.00", attrs=[A(*COLOUR, MEN_COLOURS), A(*SIZE, MEN_SIZES[:4])],
         pitch="加绒内里，宽松版型，春秋百搭", pitch_en="Fleece-lined, relaxed fit, goes with everything in spring and autumn"),
    dict(cat="menswear", shop="fs", brand="kapok", title="男士弹力修身牛仔裤", title_en="Men's Stretch Slim Jeans",
         kind="shirt", price="229.00", attrs=[A(*COLOUR, _opts(("深蓝", "Deep Blue", 0), ("黑色", "Black", 0))), A(*SIZE, MEN_SIZES[:4])],
         pitch="四面弹力面料，久坐不紧绷", pitch_en="Four-way stretch denim that stays comfortable all day"),
    dict(cat="menswear", shop="fs", brand="kapok", title="男士速干运动 Polo 衫", title_en="Men's Quick-dry Polo Shirt",
         kind="shirt", price="129.00", attrs=[A(*COLOUR, MEN_COLOURS[:3]), A(*SIZE, MEN_SIZES[:4])],
         pitch="冰感速干面料，高尔夫与通勤皆宜", pitch_en="Cool-touch quick-dry fabric for the golf course or the office"),
    dict(cat="menswear", shop="fs", brand="kapok", title="男士美利奴羊毛针织衫", title_en="Men's Merino Wool Sweater",
         kind="shirt", price="359.00", attrs=[A(*COLOUR, MEN_COLOURS[1:]), A(*SIZE, MEN_SIZES[1:4])],
         pitch="100% 美利奴羊毛，亲肤不扎", pitch_en="100% merino wool, soft against the skin"),
    # womenswear
    dict(cat="womenswear", shop="fs", brand="kapok", title="女士法式碎花连衣裙", title_en="Women's French Floral Dress",
         kind="dress", price="259.00", attrs=[A(*COLOUR, WOMEN_COLOURS), A(*SIZE, WOMEN_SIZES)],
         pitch="V 领收腰设计，雪纺面料飘逸透气", pitch_en="V-neck with a fitted waist, airy chiffon"),
    dict(cat="womenswear", shop="fs", brand="kapok", title="女士针织开衫", title_en="Women's Knit Cardigan",
         kind="shirt", price="189.00", attrs=[A(*COLOUR, WOMEN_COLOURS), A(*SIZE, WOMEN_SIZES[:3])],
         pitch="软糯针织，空调房必备", pitch_en="Soft knit, the layer every air-conditioned office needs"),
    dict(cat="womenswear", shop="fs", brand="kapok", title="女士高腰阔腿裤", title_en="Women's High-waist Wide-leg Trousers",
         kind="dress", price="199.00", attrs=[A(*COLOUR, _opts(("黑色", "Black", 0), ("卡其", "Khaki", 0))), A(*SIZE, WOMEN_SIZES)],
         pitch="垂感西装面料，显高显瘦", pitch_en="Fluid suiting fabric with a leg-lengthening high waist"),
    dict(cat="womenswear", shop="fs", brand="kapok", title="女士真丝衬衫", title_en="Women's Silk Blouse",
         kind="shirt", price="399.00", attrs=[A(*COLOUR, WOMEN_COLOURS[:2]), A(*SIZE, WOMEN_SIZES)],
         pitch="19 姆米桑蚕丝，光泽柔和", pitch_en="19-momme mulberry silk with a soft sheen"),
    dict(cat="womenswear", shop="fs", brand="kapok", title="女士经典小黑裙", title_en="Women's Classic Little Black Dress",
         kind="dress", price="329.00", attrs=[A(*SIZE, WOMEN_SIZES)],
         pitch="简约廓形，通勤约会一裙搞定", pitch_en="A clean silhouette for work and evenings alike"),
    dict(cat="womenswear", shop="fs", brand="kapok", title="女士双面羊毛大衣", title_en="Women's Double-faced Wool Coat",
         kind="shirt", price="899.00", attrs=[A(*COLOUR, _opts(("驼色", "Camel Brown", 0), ("黑色", "Black", 0))), A(*SIZE, WOMEN_SIZES[:3])],
         pitch="双面呢手工缝制，轻盈保暖", pitch_en="Hand-finished double-faced wool, light and warm"),
    dict(cat="womenswear", shop="fs", brand="kapok", title="女士运动瑜伽套装", title_en="Women's Yoga Set",
         kind="shirt", price="219.00", attrs=[A(*COLOUR, _opts(("雾紫", "Mist Purple", 0), ("墨绿", "Deep Green", 0))), A(*SIZE, WOMEN_SIZES)],
         pitch="裸感面料，高弹支撑", pitch_en="Barely-there fabric with supportive stretch"),
    # kitchen
    dict(cat="kitchen", shop="ak", brand="aoki", title="青木 麦饭石不粘炒锅", title_en="Aoki Non-stick Wok",
         kind="pot", price="189.00", attrs=[A("尺寸", "Size", WOK_SIZE)],
         pitch="少油烟不粘涂层，电磁炉燃气灶通用", pitch_en="Low-smoke non-stick coating, works on induction and gas"),
    dict(cat="kitchen", shop="ak", brand="aoki", title="青木 珐琅铸铁锅", title_en="Aoki Enamel Cast-iron Casserole",
         kind="pot", price="459.00", attrs=[A(*COLOUR, POT_COLOURS), A("尺寸", "Size", POT_SIZE)],
         pitch="均匀导热锁住水分，炖煮烘焙都拿手", pitch_en="Even heat that locks in moisture, for stews and baking"),
    dict(cat="kitchen", shop="ak", brand="aoki", title="青木 304 不锈钢汤锅", title_en="Aoki Stainless Steel Stockpot",
         kind="pot", price="239.00", attrs=[A("尺寸", "Size", _opts(("22cm", "22cm", 0), ("26cm", "26cm", 50)))],
         pitch="三层复合底，食品级 304 不锈钢", pitch_en="Tri-ply base, food-grade 304 stainless steel"),
    dict(cat="kitchen", shop="ak", brand="aoki", title="青木 大马士革主厨刀", title_en="Aoki Damascus Chef's Knife",
         kind="knife", price="329.00", attrs=[A("尺寸", "Size", KNIFE_SIZE)],
         pitch="67 层大马士革钢，锋利持久", pitch_en="67-layer Damascus steel that stays sharp"),
    dict(cat="kitchen", shop="ak", brand="aoki", title="青木 竹制砧板套装", title_en="Aoki Bamboo Cutting Board Set",
         kind="knife", price="89.00", attrs=[A("规格", "Set", SET_SIZE)],
         pitch="整竹压制，生熟分开更卫生", pitch_en="Solid pressed bamboo; separate boards for raw and cooked food"),
    dict(cat="kitchen", shop="self", brand="jiangxin", title="匠心 手作陶瓷马克杯", title_en="Jiangxin Handmade Ceramic Mug",
         kind="tea", price="49.00", attrs=[A(*COLOUR, MUG_COLOURS)],
         pitch="景德镇手工拉坯，每只釉色独一无二", pitch_en="Thrown by hand in Jingdezhen, every glaze is unique"),
    dict(cat="kitchen", shop="ak", brand="aoki", title="青木 玻璃保鲜盒套装", title_en="Aoki Glass Food Container Set",
         kind="pot", price="99.00", attrs=[A("规格", "Set", SET_SIZE)],
         pitch="高硼硅玻璃，可进微波炉烤箱", pitch_en="Borosilicate glass, microwave and oven safe"),
    # bedding
    dict(cat="bedding", shop="ak", brand="aoki", title="青木 60 支长绒棉四件套", title_en="Aoki 60s Long-staple Cotton Bedding Set",
         kind="bedding", price="499.00", attrs=[A("尺寸", "Size", BED_SIZE), A(*COLOUR, BED_COLOURS)],
         pitch="60 支贡缎工艺，丝滑亲肤", pitch_en="60s sateen weave, silky against the skin"),
    dict(cat="bedding", shop="ak", brand="aoki", title="青木 天丝夏凉被", title_en="Aoki Tencel Summer Quilt",
         kind="bedding", price="329.00", attrs=[A("尺寸", "Size", BED_SIZE_BIG)],
         pitch="天丝面料冰凉透气，可机洗", pitch_en="Cool, breathable Tencel that goes in the washing machine"),
    dict(cat="bedding", shop="ak", brand="aoki", title="青木 白鹅绒羽绒被", title_en="Aoki White Goose Down Duvet",
         kind="bedding", price="1299.00", attrs=[A("尺寸", "Size", BED_SIZE_BIG)],
         pitch="95% 白鹅绒，蓬松度 800+", pitch_en="95% white goose down, 800+ fill power"),
    dict(cat="bedding", shop="ak", brand="aoki", title="青木 记忆棉护颈枕", title_en="Aoki Memory Foam Pillow",
         kind="bedding", price="159.00", attrs=[A("款式", "Style", PILLOW)],
         pitch="慢回弹记忆棉，贴合颈椎曲线", pitch_en="Slow-rebound memory foam that follows your neck"),
    dict(cat="bedding", shop="self", brand="yunmian", title="云眠 水洗棉床单", title_en="Yunmian Washed Cotton Sheet",
         kind="bedding", price="139.00", attrs=[A("尺寸", "Size", BED_SIZE), A(*COLOUR, BED_COLOURS[:2])],
         pitch="水洗工艺越洗越软", pitch_en="Stone-washed to get softer with every wash"),
    dict(cat="bedding", shop="self", brand="yunmian", title="云眠 泰国天然乳胶床垫", title_en="Yunmian Natural Latex Mattress Topper",
         kind="bedding", price="1599.00", attrs=[A("尺寸", "Size", BED_SIZE)],
         pitch="93% 天然乳胶含量，7.5cm 厚度", pitch_en="93% natural latex, 7.5 cm thick"),
    dict(cat="bedding", shop="ak", brand="aoki", title="青木 珊瑚绒毛毯", title_en="Aoki Coral Fleece Blanket",
         kind="bedding", price="129.00", attrs=[A(*COLOUR, BED_COLOURS)],
         pitch="加厚珊瑚绒，午睡盖毯两用", pitch_en="Thick coral fleece for naps and sofa evenings"),
    # skincare
    dict(cat="skincare", shop="self", brand="camellia", title="山茶 保湿修护精华液", title_en="Camellia Hydrating Repair Serum",
         kind="bottle", price="269.00", attrs=[A("容量", "Size", SERUM)],
         pitch="山茶花提取物 + 神经酰胺，24 小时长效保湿", pitch_en="Camellia extract with ceramides for 24-hour hydration"),
    dict(cat="skincare", shop="self", brand="camellia", title="山茶 氨基酸洁面乳", title_en="Camellia Amino Acid Cleanser",
         kind="bottle", price="89.00", attrs=[A("容量", "Size", CLEANSER)],
         pitch="温和洁净不紧绷，敏感肌可用", pitch_en="Gentle, never tight, suitable for sensitive skin"),
    dict(cat="skincare", shop="self", brand="camellia", title="山茶 清爽防晒乳 SPF50+", title_en="Camellia Light Sunscreen SPF50+",
         kind="bottle", price="129.00", attrs=[A("容量", "Size", _opts(("50ml", "50ml", 0), ("100ml", "100ml", 60)))],
         pitch="PA++++ 高倍防护，清爽不油腻", pitch_en="PA++++ protection with a light, non-greasy finish"),
    dict(cat="skincare", shop="self", brand="camellia", title="山茶 屏障修护面霜", title_en="Camellia Barrier Repair Cream",
         kind="bottle", price="329.00", attrs=[A("容量", "Size", SERUM)],
         pitch="修护泛红干燥，换季稳定肌肤", pitch_en="Calms redness and dryness when the seasons change"),
    dict(cat="skincare", shop="self", brand="camellia", title="山茶 玻尿酸补水面膜", title_en="Camellia Hyaluronic Sheet Masks",
         kind="bottle", price="99.00", attrs=[A("规格", "Pack", MASK)],
         pitch="三重玻尿酸，一片急救干燥肌", pitch_en="Triple hyaluronic acid: one sheet rescues dry skin"),
    dict(cat="skincare", shop="self", brand="camellia", title="山茶 温和卸妆水", title_en="Camellia Gentle Micellar Water",
         kind="bottle", price="79.00", attrs=[A("容量", "Size", _opts(("200ml", "200ml", 0), ("400ml", "400ml", 40)))],
         pitch="胶束技术，轻松卸除淡妆", pitch_en="Micellar technology lifts light make-up easily"),
    dict(cat="skincare", shop="self", brand="camellia", title="山茶 烟酰胺身体乳", title_en="Camellia Niacinamide Body Lotion",
         kind="bottle", price="79.00", attrs=[A("容量", "Size", _opts(("250ml", "250ml", 0), ("400ml", "400ml", 30)))],
         pitch="烟酰胺提亮肤色，淡淡茶香", pitch_en="Niacinamide for brighter skin, with a light tea scent"),
    # makeup
    dict(cat="makeup", shop="self", brand="zhuyan", title="朱颜 丝绒哑光口红", title_en="Zhuyan Velvet Matte Lipstick",
         kind="lipstick", price="159.00", attrs=[A("色号", "Shade", LIP_SHADES)],
         pitch="丝绒哑光质地，持久不拔干", pitch_en="Velvet matte finish that lasts without drying"),
    dict(cat="makeup", shop="self", brand="zhuyan", title="朱颜 水光唇釉", title_en="Zhuyan Glossy Lip Glaze",
         kind="lipstick", price="129.00", attrs=[A("色号", "Shade", LIP_SHADES[1:])],
         pitch="镜面水光，嘟嘟唇一抹即现", pitch_en="Mirror-shine gloss for fuller-looking lips"),
    dict(cat="makeup", shop="self", brand="zhuyan", title="朱颜 持妆粉底液", title_en="Zhuyan Long-wear Foundation",
         kind="bottle", price="259.00", attrs=[A("色号", "Shade", BASE_SHADES)],
         pitch="24 小时持妆，轻薄服帖", pitch_en="24-hour wear in a light, skin-hugging layer"),
    dict(cat="makeup", shop="self", brand="zhuyan", title="朱颜 九色眼影盘", title_en="Zhuyan 9-colour Eyeshadow Palette",
         kind="lipstick", price="199.00", attrs=[A("色系", "Palette", _opts(("大地色", "Earth Brown", 0), ("蜜桃色", "Peach Pink", 0)))],
         pitch="哑光 + 珠光搭配，新手也能画", pitch_en="Matte and shimmer shades that beginners can blend"),
    dict(cat="makeup", shop="self", brand="zhuyan", title="朱颜 防水眼线笔", title_en="Zhuyan Waterproof Eyeliner",
         kind="lipstick", price="69.00", attrs=[A(*COLOUR, LINER)],
         pitch="0.01mm 极细笔头，防水不晕染", pitch_en="0.01 mm tip, waterproof and smudge-proof"),
    dict(cat="makeup", shop="self", brand="zhuyan", title="朱颜 控油定妆散粉", title_en="Zhuyan Oil-control Setting Powder",
         kind="bottle", price="149.00", attrs=[A("色号", "Shade", BASE_SHADES[:2])],
         pitch="细腻控油，定妆一整天", pitch_en="Fine oil-control powder that sets make-up all day"),
    # snacks
    dict(cat="snacks", shop="self", brand="xiaoshi", title="小食光 每日坚果混合装", title_en="Snack Time Daily Mixed Nuts",
         kind="snack", price="99.00", attrs=[A("规格", "Pack", NUTS)],
         pitch="6 种坚果果干科学配比，独立小包", pitch_en="Six nuts and dried fruits in individual daily packs"),
    dict(cat="snacks", shop="self", brand="xiaoshi", title="小食光 麻辣牛肉干", title_en="Snack Time Spicy Beef Jerky",
         kind="snack", price="69.00", attrs=[A("重量", "Weight", JERKY)],
         pitch="内蒙古草原牛肉，手撕风干", pitch_en="Inner Mongolian beef, hand-torn and air-dried"),
    dict(cat="snacks", shop="self", brand="xiaoshi", title="新疆若羌灰枣", title_en="Xinjiang Ruoqiang Jujube Dates",
         kind="snack", price="39.90", attrs=[A("重量", "Weight", DATES)],
         pitch="皮薄肉厚，自然甜", pitch_en="Thin skin, thick flesh, naturally sweet"),
    dict(cat="snacks", shop="self", brand="xiaoshi", title="小食光 手撕面包早餐", title_en="Snack Time Hand-torn Breakfast Bread",
         kind="snack", price="29.90", attrs=[A("规格", "Pack", BREAD)],
         pitch="松软拉丝，早餐代餐", pitch_en="Soft, stringy crumb for a quick breakfast"),
    dict(cat="snacks", shop="self", brand="xiaoshi", title="小食光 海苔脆片", title_en="Snack Time Crispy Seaweed",
         kind="snack", price="19.90", attrs=[A("重量", "Weight", SEAWEED)],
         pitch="非油炸，低卡解馋", pitch_en="Baked, not fried: a low-calorie crunch"),
    dict(cat="snacks", shop="self", brand="xiaoshi", title="云南玫瑰鲜花饼", title_en="Yunnan Rose Flower Cakes",
         kind="snack", price="39.90", attrs=[A("规格", "Pack", CAKES)],
         pitch="重瓣玫瑰现做，酥皮掉渣", pitch_en="Freshly made with double-petal roses in flaky pastry"),
    dict(cat="snacks", shop="self", brand="xiaoshi", title="小食光 奶油夏威夷果", title_en="Snack Time Creamy Macadamia Nuts",
         kind="snack", price="49.90", attrs=[A("重量", "Weight", JERKY)],
         pitch="颗颗饱满，开口易剥", pitch_en="Plump nuts, pre-cracked for easy peeling"),
    # tea
    dict(cat="tea", shop="self", brand="chayuan", title="茶源 西湖龙井 明前特级", title_en="Chayuan West Lake Longjing, Pre-Qingming Premium",
         kind="tea", price="298.00", attrs=[A("重量", "Weight", _opts(("100g", "100g", 0), ("250g", "250g", 400)))],
         pitch="核心产区狮峰山，豆香馥郁", pitch_en="From the Shifeng core area, with a rich roasted-bean aroma"),
    dict(cat="tea", shop="self", brand="chayuan", title="茶源 福鼎白牡丹白茶", title_en="Chayuan Fuding White Peony Tea",
         kind="tea", price="168.00", attrs=[A("重量", "Weight", _opts(("100g", "100g", 0), ("250g", "250g", 220)))],
         pitch="一芽二叶，清甜毫香", pitch_en="One bud and two leaves, sweet and downy"),
    dict(cat="tea", shop="self", brand="chayuan", title="茶源 云南普洱熟茶饼", title_en="Chayuan Yunnan Ripe Pu'er Cake",
         kind="tea", price="128.00", attrs=[A("规格", "Pack", TEA_CAKE)],
         pitch="勐海古树原料，陈香醇厚", pitch_en="Menghai old-tree leaves, mellow and aged"),
    dict(cat="tea", shop="self", brand="chayuan", title="茶源 武夷岩茶大红袍", title_en="Chayuan Wuyi Rock Tea Da Hong Pao",
         kind="tea", price="238.00", attrs=[A("重量", "Weight", _opts(("125g", "125g", 0), ("250g", "250g", 220)))],
         pitch="传统炭焙，岩韵悠长", pitch_en="Charcoal-roasted the traditional way, with a long mineral finish"),
    dict(cat="tea", shop="self", brand="chayuan", title="茶源 安溪铁观音", title_en="Chayuan Anxi Tieguanyin Oolong",
         kind="tea", price="138.00", attrs=[A("重量", "Weight", _opts(("250g", "250g", 0), ("500g", "500g", 120)))],
         pitch="清香型，兰花香高扬", pitch_en="Light-roast style with a lifted orchid fragrance"),
    dict(cat="tea", shop="self", brand="chayuan", title="茶源 冻干速溶咖啡", title_en="Chayuan Freeze-dried Instant Coffee",
         kind="tea", price="89.00", attrs=[A("规格", "Pack", COFFEE)],
         pitch="3 秒冷水速溶，0 蔗糖", pitch_en="Dissolves in cold water in 3 seconds, no added sugar"),
]

# per category: generic selling points appended to every description
CATEGORY_NOTES = {
    "phones": ("支持 7 天无理由退货，一年质保。", "7-day returns and a one-year warranty."),
    "headphones": ("蓝牙 5.3，双设备连接。", "Bluetooth 5.3 with two-device pairing."),
    "computers": ("预装正版系统，两年整机质保。", "Genuine OS pre-installed, two-year warranty."),
    "wearables": ("支持安卓与 iOS。", "Works with Android and iOS."),
    "menswear": ("尺码参考详情页尺码表。", "See the size chart on the product page."),
    "womenswear": ("建议按平时尺码选购。", "True to size: order your usual size."),
    "kitchen": ("食品级材质，通过 SGS 检测。", "Food-grade materials, SGS tested."),
    "bedding": ("A 类母婴级面料。", "Class A fabric, safe for babies."),
    "skincare": ("无酒精无香精，已备案。", "Alcohol-free, fragrance-free, registered."),
    "makeup": ("不含滑石粉，通过斑贴测试。", "Talc-free and patch-tested."),
    "snacks": ("当季新货，冷链直发。", "This season's harvest, shipped fresh."),
    "tea": ("产地直采，独立密封包装。", "Sourced at origin, individually sealed."),
}

# default picture colour when a product has no colour attribute
CATEGORY_COLOUR = {
    "phones": "navy", "headphones": "grey", "computers": "silver", "wearables": "black",
    "menswear": "navy", "womenswear": "pink", "kitchen": "green", "bedding": "beige", "skincare": "pink",
    "makeup": "red", "snacks": "orange", "tea": "sage",
}

# --- marketplace: shop staff with roles and seller applications ---------------
# staff of 星河数码 / Galaxy Digital, one per role (shops.roles), printed with the accounts
STAFF_ACCOUNTS = [
    {"role": "shop manager", "username": "gd-manager", "password": "staff123", "shop": "galaxy-digital",
     "shop_role": "manager", "first_name": "经理", "last_name": "王", "email": "gd-manager@shopyard.example"},
    {"role": "product editor", "username": "gd-editor", "password": "staff123", "shop": "galaxy-digital",
     "shop_role": "product_editor", "first_name": "Emma", "last_name": "Zhou", "email": "gd-editor@shopyard.example"},
    {"role": "order clerk", "username": "gd-clerk", "password": "staff123", "shop": "galaxy-digital",
     "shop_role": "order_clerk", "first_name": "小单", "last_name": "刘", "email": "gd-clerk@shopyard.example"},
    {"role": "service agent", "username": "gd-kefu", "password": "staff123", "shop": "galaxy-digital",
     "shop_role": "cs_agent", "first_name": "Kelly", "last_name": "Sun", "email": "gd-kefu@shopyard.example"},
]

# applications to open a shop, waiting for an operator (status, reason from the operator)
SHOP_APPLICATIONS = [
    {"username": "applicant", "password": "apply123", "first_name": "山", "last_name": "陈",
     "email": "applicant@shopyard.example", "status": "submitted",
     "kind": "individual", "shop_name": "山间茶舍", "business_category": "food", "contact_name": "陈山",
     "contact_phone": "13700001111", "contact_email": "applicant@shopyard.example",
     "id_number_prefix": "33010619850312001"},
    {"username": "brightway", "password": "apply123", "first_name": "Grace", "last_name": "Lee",
     "email": "grace@brightway.example", "status": "needs_more_info",
     "kind": "company", "shop_name": "Brightway Outdoor", "business_category": "sports", "contact_name": "Grace Lee",
     "contact_phone": "021-5555-0101", "contact_email": "grace@brightway.example",
     "id_number_prefix": "91310115MA1K4LXX0",
     "reason": "营业执照照片不清晰，请重新上传。 The business licence photo is blurred: please upload it again."},
]
