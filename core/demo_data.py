"""Reference data of the demo district (奉贤区): towns, departments, templates, names.

Plain data only; ``seed_demo`` turns it into rows.
"""

from __future__ import annotations

DISTRICT = ("310120", "奉贤区")

#: The 12 towns and streets of Fengxian (code suffix, name, number of grids): 56 grids.
TOWNS = [
    ("101", "南桥镇", 8),
    ("102", "奉城镇", 6),
    ("103", "庄行镇", 4),
    ("104", "金汇镇", 5),
    ("105", "四团镇", 5),
    ("106", "青村镇", 4),
    ("107", "柘林镇", 5),
    ("108", "海湾镇", 4),
    ("001", "西渡街道", 4),
    ("002", "奉浦街道", 4),
    ("003", "金海街道", 4),
    ("201", "海湾旅游区", 3),
]
COMMUNITIES_PER_GRID = 5  # 56 × 5 = 280 villages and communities

#: Real village and community names of Fengxian, used first; the rest are generated.
REAL_COMMUNITIES = {
    "南桥镇": [
        "华严村",
        "江海村",
        "六墩村",
        "杨王村",
        "曙光居委会",
        "解放居委会",
        "光明村",
        "灯塔村",
    ],
    "奉城镇": ["洪庙村", "卫季村", "朱新村", "北宋村", "奉城居委会", "分水墩村"],
    "庄行镇": ["存古村", "潘垫村", "新叶村", "长堰村", "庄行居委会", "浦秀村"],
    "金汇镇": ["明星村", "墩头村", "金星村", "光辉村", "金汇居委会", "周家村"],
    "四团镇": ["邵靴村", "拾村村", "渔洋村", "夏家村", "四团居委会", "新桥村"],
    "青村镇": ["吴房村", "李窑村", "和平村", "元通村", "青村居委会", "钱桥村"],
    "柘林镇": ["胡桥村", "迎龙村", "新寺村", "兴园村", "柘林居委会", "南胜村"],
    "海湾镇": ["五四村", "星火村", "海湾居委会", "燎原村"],
    "西渡街道": ["五宅村", "关港村", "张塘村", "沙港村", "西渡居委会"],
    "奉浦街道": ["肖塘村", "奉浦居委会", "九华社区", "环城社区"],
    "金海街道": ["金海社区", "汇丰社区", "贤园社区", "金水苑社区"],
    "海湾旅游区": ["碧海金沙社区", "海湾森林社区"],
}
NAME_HEADS = list("东西南北新长永兴金银红华胜利光明丰盛乐安福泰益民和平塘桥港湾")
NAME_TAILS = list("星河庄园浜墩宅湾泾渡港桥湖村苑庙圩坊")

#: District-level departments (code, name, kind).
DISTRICT_DEPARTMENTS = [
    ("CGZF", "区城管执法局", "enforcement"),
    ("STHJ", "区生态环境局", "enforcement"),
    ("SWJ", "区水务局", "management"),
    ("GAFJ", "公安奉贤分局", "enforcement"),
    ("SCJG", "区市场监管局", "enforcement"),
    ("JSGL", "区建设管理委", "management"),
    ("JTW", "区交通委", "management"),
    ("GHZY", "区规划资源局", "management"),
    ("WJW", "区卫生健康委", "management"),
    ("YJGL", "区应急管理局", "enforcement"),
    ("LHSR", "区绿化市容局", "management"),
    ("MZJ", "区民政局", "management"),
    ("RSJ", "区人社局", "management"),
    ("XFZD", "区消防救援支队", "enforcement"),
    ("FGW", "区房管局", "management"),
    ("GDGS", "奉贤供电公司", "utility"),
    ("ZLSGS", "奉贤自来水公司", "utility"),
    ("RQGS", "奉贤燃气公司", "utility"),
    ("DXGS", "奉贤电信公司", "utility"),
    ("YDGS", "奉贤移动公司", "utility"),
    ("YXDS", "奉贤有线电视公司", "utility"),
]
#: Departments every town has (code suffix, name suffix, kind): 12 × 6 = 72, 93 in all.
TOWN_DEPARTMENTS = [
    ("CGZD", "城管中队", "enforcement"),
    ("PCS", "派出所", "enforcement"),
    ("SCJGS", "市场监管所", "enforcement"),
    ("HWS", "环卫所", "management"),
    ("FGB", "房管办", "management"),
    ("SLZ", "水务站", "utility"),
]
TITLES = ["科员", "队员", "副科长", "科长", "主任科员", "网格员", "协管员"]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈任姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方邹熊孟秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建国文辉鹏飞斌宇浩凯俊晨欣怡佳琪雪梅海燕志军永明德云"
)

#: Categories: (code, name, [(code, name), …]).
CATEGORIES = [
    (
        "SRHJ",
        "市容环境",
        [("ZDJY", "占道经营"), ("HJWS", "环境卫生"), ("LJFL", "垃圾分类"), ("YYRM", "油烟扰民")],
    ),
    ("CSGL", "城市管理", [("WFJZ", "违法建筑"), ("QZ", "群租"), ("WGTC", "违规停车")]),
    ("STHB", "生态环保", [("HDWR", "河道污染"), ("ZSRM", "噪声扰民")]),
    ("SSSS", "设施设备", [("XGGZ", "线杆故障"), ("DLPS", "道路破损"), ("JJGQS", "窨井盖缺失")]),
]

#: Templates: (code, name, category code, default department codes, priority, hours, skeleton, fields).
#: Department codes starting with "@" are town departments (suffix).
TEMPLATES = [
    (
        "street_vending",
        "占道经营",
        "ZDJY",
        ["@CGZD", "@SCJGS"],
        "normal",
        24,
        "在{地点}发现流动摊贩占道经营，影响通行。",
        [
            ("stall_count", "摊位数量", "number", True, ""),
            ("goods", "经营品类", "choice", True, "果蔬\n熟食\n小商品\n其他"),
            ("site_photo", "现场照片", "photo", False, ""),
        ],
    ),
    (
        "illegal_building",
        "违法建筑",
        "WFJZ",
        ["@CGZD", "GHZY", "@FGB"],
        "high",
        168,
        "{地点}存在疑似违法搭建，面积约{面积}平方米。",
        [
            ("area_sqm", "搭建面积（平方米）", "number", True, ""),
            ("stage", "施工阶段", "choice", True, "在建\n已建成"),
            ("found_on", "发现日期", "date", False, ""),
            ("site_photo", "现场照片", "photo", True, ""),
        ],
    ),
    (
        "sanitation",
        "环境卫生",
        "HJWS",
        ["@HWS", "LHSR"],
        "normal",
        48,
        "{地点}垃圾堆积、卫生较差。",
        [
            ("volume", "堆积程度", "choice", True, "少量\n较多\n大量"),
            ("site_photo", "现场照片", "photo", False, ""),
        ],
    ),
    (
        "group_renting",
        "群租",
        "QZ",
        ["@FGB", "@PCS"],
        "normal",
        120,
        "{地址}疑似群租，居住人数较多。",
        [("room_no", "房号", "text", True, ""), ("occupants", "居住人数", "number", False, "")],
    ),
    (
        "noise",
        "噪声扰民",
        "ZSRM",
        ["STHJ", "@PCS"],
        "normal",
        24,
        "{地点}夜间施工或经营噪声扰民。",
        [
            ("noise_source", "噪声来源", "choice", True, "施工\n经营\n生活\n其他"),
            ("time_span", "发生时段", "text", False, ""),
        ],
    ),
    (
        "river_pollution",
        "河道污染",
        "HDWR",
        ["SWJ", "STHJ", "@SLZ"],
        "high",
        72,
        "{河道}出现水体发黑、漂浮物或排污口。",
        [
            ("river_name", "河道名称", "text", True, ""),
            ("pollution", "污染类型", "choice", True, "漂浮物\n水体发黑\n违法排污"),
            ("site_photo", "现场照片", "photo", True, ""),
        ],
    ),
    (
        "pole_fault",
        "线杆故障",
        "XGGZ",
        ["GDGS", "DXGS", "YDGS"],
        "high",
        24,
        "{地点}线杆倾斜或线缆垂落，存在安全隐患。",
        [
            ("owner", "线缆归属", "choice", False, "电力\n电信\n移动\n有线电视\n不明"),
            ("site_photo", "现场照片", "photo", True, ""),
        ],
    ),
    (
        "road_damage",
        "道路破损",
        "DLPS",
        ["JTW", "JSGL"],
        "normal",
        72,
        "{路段}路面破损、坑洼。",
        [
            ("road_name", "路段", "text", True, ""),
            ("damage_size", "破损面积（平方米）", "number", False, ""),
        ],
    ),
    (
        "illegal_parking",
        "违规停车",
        "WGTC",
        ["@PCS", "@CGZD"],
        "low",
        24,
        "{地点}车辆违规停放，堵塞通道。",
        [("plate", "车牌号", "text", False, ""), ("vehicle_count", "车辆数", "number", False, "")],
    ),
    (
        "garbage_sorting",
        "垃圾分类",
        "LJFL",
        ["@HWS", "LHSR"],
        "low",
        72,
        "{小区}垃圾分类投放不规范。",
        [("site", "投放点", "text", True, "")],
    ),
    (
        "cooking_fumes",
        "油烟扰民",
        "YYRM",
        ["STHJ", "@SCJGS"],
        "normal",
        72,
        "{商户}油烟直排，影响居民。",
        [("shop_name", "商户名称", "text", True, "")],
    ),
    (
        "manhole_missing",
        "窨井盖缺失",
        "JJGQS",
        ["SWJ", "JSGL", "ZLSGS"],
        "urgent",
        4,
        "{地点}窨井盖缺失或破损，需立即处置。",
        [
            ("location_desc", "具体位置", "text", True, ""),
            ("site_photo", "现场照片", "photo", True, ""),
        ],
    ),
]

CRITERIA = [("result", "办理结果", 1), ("conduct", "工作作风", 1)]

DECLINE_REASONS = [
    "不属于本部门职责范围",
    "已由其他部门处置",
    "人员外出执法，建议改派",
    "需先由属地核实情况",
]
CASE_TITLE_PLACES = [
    "路口",
    "菜场门口",
    "河边",
    "小区北门",
    "学校附近",
    "公交站旁",
    "村委会旁",
    "桥头",
]


#: A conversation in a room being worked (seed_demo), alternating between its people.
CHAT_LINES = [
    "已到达现场，正在核实情况。",
    "好的，村里已安排人员在路口等候配合。",
    "现场照片稍后上传，摊位共三处。",
    "已联系经营户，要求今天下午前自行清理。",
    "收到，我们明早再去复查一次。",
]
