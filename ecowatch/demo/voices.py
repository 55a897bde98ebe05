"""What the demo month's residents, hotline clerks and local media write: complaint bases with
slots (place, time, how long, what they ask for), said in three registers (a forum post, a 12345
hotline transfer, a 留言板 letter), residents' comments, chatter that is no matter of ours, and
local news. Fictional texts in the style of real local posts (shared/data/complaints); places are
江北区's streets, towns and communities (core/jurisdictions/jiangbei/divisions.csv).

A base is written once and said many ways, so a month of several hundred posts does not read as
one sentence repeated; a fixed random generator makes every build the same month.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Where complaints come from: (street or town, its communities or villages). Urban communities
# for shops, traffic and building sites; villages and town communities for farms and kilns.
URBAN = {
    "观音桥街道": ["建北社区", "桃源社区", "洋河社区", "小苑社区", "鲤鱼池社区", "塔坪社区", "鸿恩寺社区", "大水井社区",
               "猫儿石社区", "北国风光社区", "富力海洋社区", "黄葛社区"],
    "华新街街道": ["桥北社区", "嘉陵社区", "建新社区", "董家溪社区", "江湾城社区", "香国寺社区", "红砂碛社区",
                   "观府国际社区"],
    "石马河街道": ["玉带山社区", "南桥寺社区", "金果园社区", "新城社区", "十年城社区", "鲜花港社区", "桂花园社区",
                   "石子山社区"],
    "大石坝街道": ["石门社区", "东原社区", "黑院墙社区", "瓦厂嘴社区", "东海岸社区", "石油社区", "前卫社区"],
    "五里店街道": ["刘家台社区", "黎明社区", "富强社区", "星澜社区", "莺花厢社区", "渝能阳光社区", "蓝色经典社区",
                   "雨花社区"],
    "寸滩街道": ["溉澜溪社区", "黑石子社区", "海语江山社区", "丽苑社区", "保税商圈社区", "茅溪社区"],
    "江北城街道": ["三洞桥社区", "桂花街社区"],
    "郭家沱街道": ["大溪村社区", "锣旗寺社区", "飞岚垭社区", "山涧水岸社区"],
}
RURAL = {
    "鱼嘴镇": ["井池村", "和美社区", "鱼城社区"],
    "复盛镇": ["华山村", "石庙村", "石河溪社区", "庙坝社区"],
    "五宝镇": ["大树村", "万缘村", "马井村", "院子村", "干坝村", "下湾村"],
    "铁山坪街道": ["上坪村", "胜利村", "马鞍山村", "铁山社区"],
}
# Rivers and the stretch people name: (the river, the street or town, a community on its bank).
RIVERS = [("石马河", "石马河街道", "南桥寺社区"), ("盘溪河", "石马河街道", "玉带山社区"),
          ("溉澜溪", "寸滩街道", "溉澜溪社区"), ("嘉陵江", "大石坝街道", "石门社区"), ("嘉陵江", "华新街街道",
                                                                                       "香国寺社区"),
          ("长江", "郭家沱街道", "大溪村社区"), ("长江", "鱼嘴镇", "井池村"), ("长江", "寸滩街道", "黑石子社区"),
          ("朝阳河", "复盛镇", "石河溪社区"), ("御临河", "五宝镇", "下湾村")]

WHEN = ["每天晚上十点以后", "一到半夜", "天天早上六点不到", "这几天傍晚", "周末一整天", "每天中午", "晚上十一二点",
        "最近一到下雨天", "凌晨两三点", "一到饭点"]
SINCE = ["快一个月了", "持续一个多星期了", "这两天", "已经半年多了", "从上个月开始", "好几年了", "这个星期",
         "断断续续两个月"]
ASKS = ["希望相关部门来看一下", "麻烦环保局管一管", "请街道和城管尽快处理", "希望能彻底解决，不要来了一趟又恢复原样",
        "求扩散，让管事的人看到", "已经打过12345，希望这次有个回音", "恳请有关部门依法查处", "希望社区出面协调一下"]
FEELINGS = ["窗户都不敢开", "家里老人睡不着觉", "娃娃天天咳嗽", "晾的衣服全是味道", "根本没法休息", "走路都要捂鼻子",
            "楼上楼下都有意见", "上班的人第二天没精神"]


@dataclass(frozen=True)
class Base:
    """One kind of complaint: where it happens (urban, rural or river), its topic word for the
    title, and the ways residents say what is wrong ({w} when, {f} what it does to them)."""

    where: str
    titles: tuple[str, ...]
    says: tuple[str, ...]


BASES = [
    Base("urban", ("{p}烧烤摊油烟扰民", "{p}楼下烧烤店油烟直排"),
         ("楼下烧烤摊{w}油烟直往楼上飘，{f}", "底商那家烧烤店油烟净化器是个摆设，烟子直接往居民楼里灌，{f}")),
    Base("urban", ("{p}火锅店油烟直冲住户", "{p}餐馆排烟管对着卧室"),
         ("新开的火锅店排烟管正对着我们卧室窗户，{w}满屋子牛油味，{f}",
          "临街几家餐馆的油烟管道没有高空排放，{w}油烟熏得墙都黑了")),
    Base("urban", ("{p}工地夜间施工噪音", "{p}工地半夜打桩"),
         ("旁边工地{w}还在打桩、打混凝土，泵车轰隆隆的，{f}", "工地没有夜间施工许可公示，{w}还在切钢筋，{f}")),
    Base("urban", ("{p}渣土车抛洒扬尘", "{p}渣土车不盖篷布"),
         ("渣土车{w}一辆接一辆，车上不盖篷布，路上全是泥巴，晴天一身灰雨天一身泥",
          "进出工地的渣土车没有冲洗，轮子带出来的泥把整条路都糊了，{f}")),
    Base("urban", ("{p}垃圾站臭味熏人", "{p}垃圾收集点没人清运"),
         ("小区门口垃圾收集点{w}臭得很，垃圾桶满了溢出来，苍蝇蚊子乱飞，{f}",
          "垃圾中转站的渗滤液流到人行道上，黑水一路淌，{f}")),
    Base("urban", ("{p}KTV噪音扰民", "{p}酒吧低音炮震得玻璃响"),
         ("楼下新开的KTV{w}还在唱，低音炮震得玻璃都在响，{f}", "临街酒吧{w}放音乐，声音大得隔两条街都听得到，{f}")),
    Base("urban", ("{p}广场舞音响太吵", "{p}小广场音响扰民"),
         ("小广场{w}音响开得震天响，跳到十点多，家里娃娃没法做作业", "坝坝舞的音箱越换越大，{w}准时开始，{f}")),
    Base("urban", ("{p}洗车店污水横流", "{p}汽修店废机油乱倒"),
         ("门口洗车店的洗车水直接往人行道上流，地上一层油泥，晚上泡沫流进雨水井",
          "汽修店把换下来的废机油直接倒进下水道，雨水口周围全是黑油，一股汽油味")),
    Base("urban", ("{p}下水道反臭", "{p}化粪池冒粪水"),
         ("小区化粪池{w}往外冒粪水，整栋楼都是臭味，{f}", "菜市场后面那条下水道反臭很厉害，路过都要捂鼻子，{f}")),
    Base("urban", ("{p}空调外机噪音大", "{p}商场冷却塔噪音扰民"),
         ("楼下商铺一排空调外机正对着卧室，{w}嗡嗡响，热风往楼上吹，{f}", "商场楼顶冷却塔{w}轰轰响，{f}")),
    Base("urban", ("{p}装修垃圾乱堆", "{p}绿化带被倾倒建筑垃圾"),
         ("绿化带里有人{w}偷偷倒装修垃圾，砖头、石膏板、油漆桶堆了一大堆",
          "小区里装修垃圾堆在消防通道上没人清，刮风灰尘满天飞")),
    Base("urban", ("{p}喷漆房气味刺鼻", "{p}家具厂油漆味熏人"),
         ("附近有个汽车喷漆房{w}在喷漆，一股刺鼻的油漆味，嗓子不舒服，{f}",
          "楼下仓库改成了家具作坊，刷油漆的味道{w}飘上来，{f}")),
    Base("urban", ("{p}工地扬尘大", "{p}拆迁工地不洒水"),
         ("旁边拆迁工地没有围挡也不洒水，{w}灰尘漫天，楼下停的车一天就是一层灰",
          "工地裸土没有覆盖，风一吹灰就往小区里扑，{f}")),
    Base("urban", ("{p}菜市场杀鸡摊污水臭", "{p}水产摊污水直排"),
         ("菜市场里杀鸡杀鱼的摊位污水和鸡毛直接冲进下水道，堵了就漫到路上，天一热臭得很",
          "水产摊的腥臭水直接排进雨水沟，{w}臭气熏天，{f}")),
    Base("urban", ("{p}物流车夜间装卸噪音", "{p}货车半夜倒车喇叭吵"),
         ("旁边仓库{w}装卸货，叉车和货车倒车喇叭吵个不停，{f}", "大货车{w}进出，刹车声、喇叭声不断，{f}")),
    Base("urban", ("{p}餐厨垃圾桶满溢", "{p}泔水车漏汤"),
         ("餐馆的泔水桶就摆在路边，{w}汤汤水水流一地，臭得很", "收泔水的车一路走一路漏，路面黏糊糊的，{f}")),
    Base("urban", ("{p}商铺喇叭促销噪音", "{p}门店音箱循环喊麦"),
         ("临街几家门店门口摆着大音箱，{w}循环放促销广告，“清仓甩卖”喊个不停，{f}",
          "新开的手机店门口请人拿话筒喊麦，声音开到最大，{f}")),
    Base("urban", ("{p}诊所医疗垃圾混进生活垃圾", "{p}医疗废物随意丢弃"),
         ("小区门口那家诊所把用过的输液管、针头直接丢进生活垃圾桶，环卫工人差点被扎到",
          "垃圾桶旁边经常看到带血的棉签和输液袋，估计是附近诊所丢的，娃娃在旁边玩，太危险了")),
    Base("urban", ("{p}自来水发黄有异味", "{p}二次供水水箱脏"),
         ("家里自来水{w}放出来是黄的，有股铁锈味，烧开了还有沉淀，{f}",
          "小区二次供水水箱好几年没清洗了，水里有小虫子，物业不管")),
    Base("urban", ("{p}垃圾分类后又混装拉走", "{p}分类垃圾桶形同虚设"),
         ("小区垃圾分好了类，结果收运车来了一股脑倒进一个车厢，居民分类的积极性都没了",
          "分类垃圾桶摆了一排，{w}厨余垃圾和其他垃圾混在一起，臭得很，{f}")),
    Base("rural", ("{p}有人张网捕鸟", "{p}山林里有捕鸟网"),
         ("山上林子里有人拉了好几张捕鸟网，网上挂着死鸟，有白头鹎还有斑鸠",
          "{w}有人在林子边上用录音机放鸟叫引鸟，张网捕鸟，拿去卖")),
    Base("rural", ("{p}鱼塘清塘污水直排", "{p}养鱼塘投肥水发臭"),
         ("村里鱼塘清塘，把塘底的黑泥臭水直接放到下游小河里，整条河都变黑了",
          "养鱼塘往水里倒鸡粪肥水，{w}整片塘都臭，{f}")),
    Base("rural", ("{p}养殖场粪水直排", "{p}养猪场臭味大"),
         ("村里那个养殖场的粪水{w}往旁边沟里流，整条沟都是黑的，臭味飘到几里外",
          "养猪场臭味越来越大，{f}，粪水好像还往田里排")),
    Base("rural", ("{p}有人焚烧秸秆垃圾", "{p}露天烧垃圾浓烟大"),
         ("{w}就有人在地里烧秸秆和塑料垃圾，烟大得很，山上步道都是烟味", "村口有人露天焚烧垃圾，黑烟一股塑料味，{f}")),
    Base("rural", ("{p}砖厂冒黑烟", "{p}小作坊烟囱冒黑烟"),
         ("砖厂烟囱{w}冒黑烟，村里到处是煤烟味，晾的衣服都是黑点点", "山脚下一个小作坊烧锅炉，烟囱冒黑烟，{f}")),
    Base("rural", ("{p}农家乐污水往山沟排", "{p}农家乐油污水没处理"),
         ("一家农家乐后面接了根管子，洗碗水、厨房污水直接排到山沟里，下游还有村民用这个水浇菜",
          "农家乐周末客人多，污水池满了就往沟里放，{w}一股馊味")),
    Base("rural", ("{p}林地被毁种菜", "{p}山上树木被砍"),
         ("山上一片林子被人砍了，说是要种菜，树桩子还在，水土流失严重",
          "有人在林地边上挖山取土，挖掘机{w}在作业，好好的山挖得光秃秃的")),
    Base("rural", ("{p}石材加工粉尘大", "{p}碎石场粉尘噪音"),
         ("石材加工点{w}切石头，粉尘漫天飞，菜叶子上都是一层白灰，{f}",
          "碎石场机器{w}在响，粉尘把整片地都染白了，{f}")),
    Base("rural", ("{p}工业园夜间刺鼻气味", "{p}厂区半夜偷排废气"),
         ("工业园方向{w}飘过来一股刺鼻的化学品味道，嗓子痛，{f}", "怀疑附近的厂{w}偷排废气，一股胶臭味，{f}")),
    Base("river", ("{r}{p}段排口冒黑水", "{r}{p}段污水直排"),
         ("{r}这段有个排口{w}往河里冒黑水，臭得很，河边散步的人都绕道走",
          "{r}边上的雨污管道好像破了，{w}黑水直接流进河里")),
    Base("river", ("{r}{p}段河面漂浮垃圾多", "{r}{p}段水面一层油花"),
         ("{r}这段水面漂着塑料袋、泡沫箱，靠近排口处有明显臭味，{f}",
          "{r}这段水面一层油花，岸边石头都是黑的，怀疑有人倒废油")),
    Base("river", ("{r}{p}段有人电鱼", "{r}{p}段禁渔期撒网"),
         ("禁渔期了还有人{w}在{r}边电鱼，小鱼漂了一片", "{r}这段{w}有人开船撒网捕鱼，明目张胆的，希望渔政来管")),
    Base("river", ("{r}{p}段河水发臭", "{r}{p}段出现死鱼"),
         ("{r}河水{w}发绿发臭，{f}", "{r}边上漂了好些死鱼，水有点发白，不晓得是不是上游排了什么东西")),
    Base("river", ("{r}{p}段岸边倒建筑垃圾", "{r}{p}段消落带堆垃圾"),
         ("{r}岸边有人{w}拉来建筑垃圾往坡下倒，一涨水就冲进河里", "{r}消落带上堆了好多生活垃圾，没人清理，{f}")),
]

# How a complaint is said: a resident's post, the 12345 hotline's transfer, a letter to the 问政 board.
REGISTERS = [
    ("post", "{title}", "{place}这边，{say}。{since}，{ask}！"),
    ("post", "{title}，有没有人管管", "住{place}的，{say}。{since}了，{ask}。"),
    ("hotline", "{title}",
     "市民来电反映：在{place}，{say}，{since}，影响周边居民正常生活。来电人希望相关部门尽快核实处理。"),
    ("letter", "关于{title}的问题",
     "尊敬的领导：您好！我是{place}的居民，{say}。{since}，多次向物业和社区反映没有结果。{ask}，谢谢！"),
]
AUTHORS = {"post": ["{unit}老住户", "{community}业主", "住{community}的", "{unit}上班族", "江北街坊{n}",
                    "路过的{unit}人"],
           "hotline": ["12345市民热线转办"], "letter": ["网友{n}", "{community}居民"]}

# Residents under a complaint (replies in its thread).
COMMENTS = [
    "同感，我们这栋楼也是，晚上窗户都不敢开", "+1，已经打过12345了，说会转给街道处理",
    "住旁边的，确实很严重，拍了视频有需要的私信",
    "这个问题好久了，希望这次能真正解决", "刚路过看了一眼，还是那样", "顶一下，让更多人看到",
    "我家老人有鼻炎，这几天都不敢出门",
    "之前也反映过，没得下文", "希望相关部门重视一下，谢谢", "我们对面楼也听得到，不是一家两家的问题",
    "昨晚又是这样，录了音",
    "物业说管不了，让我们自己打电话", "社区网格员来看过一次，后来就没消息了", "周末带娃娃出去都绕着走",
    "楼主加油，我们支持你",
    "已经向环保局反映了，说会派人来测", "住了十几年了，以前没得这么严重", "晚上十二点还听得到，明天还要上班",
    "城管来过，走了又开始了",
    "我也在12345上留言了，编号都有", "这种事情只有多反映", "我们小区群里都在说这个事", "上次整改了几天又恢复原样了",
    "太影响生活了，希望早点解决", "有没有人晓得该找哪个部门", "支持，已转发到业主群",
]
# Posts that name 江北 places but are about nothing of ours (the collector stores them; they open nothing).
CHATTER = [
    ("观音桥九街新开了一家重庆小面，二两才九块",
     "今天去{community}那边吃了新开的小面，豌杂面二两九块钱，面条筋道，排了二十分钟的队。"),
    ("{unit}周末有跳蚤市场", "这个周末{unit}{community}门口有跳蚤市场，旧书、玩具、小家电都有，感兴趣的可以去逛逛。"),
    ("求推荐{unit}附近靠谱的少儿游泳班",
     "娃娃今年六岁，想在{unit}附近报个游泳班，有没有家长推荐一下，最好周末能上课的。"),
    ("轻轨环线早高峰太挤了", "每天早上从{unit}坐环线去上班，八点那一趟根本挤不上去，有没有错峰的好办法？"),
    ("{community}有人捡到一只橘猫", "今天下午在{unit}{community}楼下捡到一只橘猫，很亲人，戴了项圈，主人看到请联系。"),
    ("{unit}有没有好吃的豆花饭", "刚搬到{unit}{community}，想找一家正宗的豆花饭，蘸水要巴适的，求大家推荐。"),
    ("{unit}哪里有修手机的", "手机屏幕摔碎了，{unit}这边有没有靠谱的修手机的店，价格公道的。"),
    ("北滨路骑车的朋友约起", "周六早上七点北滨路骑车，从{unit}出发到大剧院，有没有一起的。"),
    ("{community}附近新开的社区食堂怎么样",
     "听说{unit}{community}开了社区食堂，老年人吃饭有优惠，有没有去吃过的说说好不好吃。"),
    ("观音桥步行街周末人好多", "周末去观音桥步行街，人山人海的，奶茶店门口排了几十米，还是工作日去好点。"),
    ("{unit}的菜价又涨了", "今天在{unit}菜市场买菜，青菜都要四块一斤了，大家那边菜价怎么样？"),
    ("请问{unit}社保服务站在哪里", "要办医保卡，{unit}的社保服务站搬到哪里去了？有没有晓得的。"),
    ("鎏嘉码头夜景拍照攻略", "分享一下鎏嘉码头拍夜景的位置，傍晚七点半左右去，江对面的灯刚好亮起来。"),
    ("{community}停车位太难找了", "下班回{unit}{community}，转了三圈都找不到停车位，小区车位卖完了，路边又贴条。"),
]
# Where chatter happens (names that read as nothing environmental: not 大溪村, 鲤鱼池 or the 石马河 street).
CHATTER_PLACES = [("观音桥街道", "建北社区"), ("五里店街道", "雨花社区"),
                  ("华新街街道", "桥北社区"), ("大石坝街道", "前卫社区"),
                  ("五里店街道", "黎明社区"), ("寸滩街道", "丽苑社区"), ("观音桥街道", "塔坪社区")]
# Local news and notices: good news, the bureau's notices; relevant but no complaint.
NEWS = [
    ("{r}{p}段清淤完工 水质明显好转",
     "近日，{unit}配合区级部门完成{r}{community}段清淤疏浚，清理淤泥约两千立方米。附近居民表示，河水清了，异味也没了。"),
    ("区生态环境局开展夜间施工专项检查",
     "为回应群众对夜间施工噪声的关切，区生态环境局联合区住房城乡建委对{unit}等地在建工地开展夜间专项检查，责令停工整改3处。"),
    ("{unit}开展餐饮油烟治理回头看",
     "{unit}组织对辖区餐饮店油烟净化设施开展回头看，检查餐饮店30余家，督促清洗净化设施12家，居民反映的油烟问题明显减少。"),
    ("{unit}垃圾分类示范小区揭牌",
     "{unit}{community}被评为生活垃圾分类示范小区，小区设置智能回收箱，居民分类投放准确率超过九成。"),
    ("江北区发布秋冬季大气污染防治工作方案",
     "区政府办公室印发秋冬季大气污染防治工作方案，明确工地扬尘、餐饮油烟、机动车尾气等重点任务，{unit}等镇街分片落实。"),
    ("{r}边的白鹭又回来了", "清晨在{r}{community}段，常能看到几只白鹭在浅滩觅食。居民说，这几年河水变清了，鸟也多了。"),
    ("区生态环境局公布上月环境信访办理情况",
     "上月全区共受理环境信访投诉一百余件，其中噪声类占四成，油烟类占两成，办结率百分之九十六，{unit}投诉量居前。"),
    ("{unit}组织志愿者开展河岸清洁", "周末，{unit}组织志愿者在{r}{community}段开展河岸清洁活动，清理垃圾二十余袋。"),
]


@dataclass(frozen=True)
class Said:
    """One post's words: who, title, text, and the street or town it names."""

    author: str
    title: str
    text: str
    unit: str


def _spot(rng: random.Random, where: str) -> tuple[str, str, str]:
    """(street or town, community, river or "") for a complaint of kind ``where``."""
    if where == "river":
        river, unit, community = rng.choice(RIVERS)
        return unit, community, river
    pool = URBAN if where == "urban" else RURAL
    unit = rng.choice(sorted(pool))
    return unit, rng.choice(pool[unit]), ""


def _short(unit: str) -> str:
    """How residents name a street or town: 观音桥 for 观音桥街道, 鱼嘴镇 stays."""
    return unit.removesuffix("街道")


def complaint(rng: random.Random) -> Said:
    """A fresh complaint: a base, a place, a register, and the slots drawn."""
    base = rng.choice(BASES)
    unit, community, river = _spot(rng, base.where)
    place_forms = [f"{unit}{community}", f"{_short(unit)}{community}"]
    place = rng.choice(place_forms)
    # In titles a river names its stretch by the community; elsewhere by the place.
    title = rng.choice(base.titles).format(p=community if river else place, r=river)
    say = rng.choice(base.says).format(w=rng.choice(WHEN), f=rng.choice(FEELINGS), r=river)
    kind, title_form, text_form = rng.choice(REGISTERS)
    text = text_form.format(place=place, say=say, since=rng.choice(SINCE), ask=rng.choice(ASKS))
    author = rng.choice(AUTHORS[kind]).format(unit=_short(unit), community=community, n=rng.randrange(1000, 9999))
    return Said(author, title_form.format(title=title), text, unit)


def chatter(rng: random.Random) -> Said:
    """A post about 江北 that is no environmental matter."""
    unit, community = rng.choice(CHATTER_PLACES)
    title, text = rng.choice(CHATTER)
    slots = {"unit": _short(unit), "community": community}
    return Said(f"江北吃货{rng.randrange(100, 999)}", title.format(**slots), text.format(**slots), unit)


def news(rng: random.Random) -> Said:
    """A local news item or notice about the district's environmental work."""
    river, unit, community = rng.choice(RIVERS)
    title, text = rng.choice(NEWS)
    slots = {"unit": unit, "community": community, "r": river, "p": community}
    return Said("江北街坊新闻网", title.format(**slots), text.format(**slots), unit)


# The street's or town's public answer under a complaint (an official reply in its thread).
REPLIES = [
    "网友您好，您反映的问题已收悉。经现场核查，情况基本属实，我街道已责令相关商户立即整改，并将纳入日常巡查。感谢您的监督！",
    "您好，关于您反映的问题，我街道已会同区生态环境局、区城市管理局到现场核实，已约谈责任单位，限期三日内整改到位。",
    "网友您好！经核查，您反映的问题属实，我街道已督促责任方落实防治措施，后续将持续跟踪，欢迎继续监督。",
    "您好，您反映的情况我街道已转交社区网格员现场核实，已责令当事人停止违规行为，整改情况将及时向您反馈。",
]


def reply_author(unit: str) -> str:
    """The official account that answers for ``unit``."""
    return f"江北区{unit}{'人民政府' if unit.endswith('镇') else '办事处'}"
