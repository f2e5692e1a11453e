"""Table of written -> spoken cases, mostly sentences and fragments taken from the seed documents.

Each row names the rule it proves. Expected readings are written by hand from how a Vietnamese
announcer reads the text (see docs/normalization.md for the conventions chosen).
"""

from __future__ import annotations

import pytest

from audio.text import normalize

Y2021 = "hai nghìn không trăm hai mươi mốt"
Y2030 = "hai nghìn không trăm ba mươi"
Y2024 = "hai nghìn không trăm hai mươi tư"
Y2025 = "hai nghìn không trăm hai mươi lăm"

# (rule, written, spoken)
CASES: list[tuple[str, str, str]] = [
    # --- cardinals in running text
    ("cardinal mốt", "21 xã", "hai mươi mốt xã"),
    ("cardinal mười một", "11 thôn", "mười một thôn"),
    ("cardinal linh một", "101 hộ", "một trăm linh một hộ"),
    ("cardinal lăm", "15 phút", "mười lăm phút"),
    ("cardinal hai mươi lăm", "25 cụm loa", "hai mươi lăm cụm loa"),
    ("cardinal linh năm", "105 trạm", "một trăm linh năm trạm"),
    ("cardinal tư", "24 giờ", "hai mươi tư giờ"),
    ("cardinal mười bốn", "14 xã", "mười bốn xã"),
    ("cardinal không trăm", "năm 2021", f"năm {Y2021}"),
    (
        "leading zero count",
        "Tiếp phát sóng đầy đủ các chương trình thời sự của 02 đài quốc gia",
        "Tiếp phát sóng đầy đủ các chương trình thời sự của hai đài quốc gia",
    ),
    ("leading zero period", "Định kỳ 6 tháng, 01 năm và đột xuất", "Định kỳ sáu tháng, một năm và đột xuất"),
    ("levels", "dịch vụ công trực tuyến mức độ 3 và 4", "dịch vụ công trực tuyến mức độ ba và bốn"),
    ("levels with comma", "dịch vụ công trực tuyến mức độ 3, 4;", "dịch vụ công trực tuyến mức độ ba, bốn;"),
    ("law article", "theo quy định tại Điều 15", "theo quy định tại Điều mười lăm"),
    ("clause and article", "khoản 6 Điều 1 của Nghị định", "khoản sáu Điều một của Nghị định"),
    ("constitution year", "phù hợp với Hiến pháp năm 2013", "phù hợp với Hiến pháp năm hai nghìn không trăm mười ba"),
    ("thousands dot", "50.000 người", "năm mươi nghìn người"),
    ("millions dots", "2.500.000 lượt", "hai triệu năm trăm nghìn lượt"),
    ("decimal comma", "đạt 98,5 điểm", "đạt chín mươi tám phẩy năm điểm"),
    ("trillion", "1.000.000.000.000 đồng", "một nghìn tỷ đồng"),
    ("dotted section", "Mục 1.2 của kế hoạch", "Mục một chấm hai của kế hoạch"),
    ("negative", "nhiệt độ -2 độ", "nhiệt độ âm hai độ"),
    ("digits glued to letters", "cúm H5N1", "cúm H năm N một"),
    # --- percentages, money, units
    ("percent decimal", "tỷ lệ hài lòng đạt 98,5%", "tỷ lệ hài lòng đạt chín mươi tám phẩy năm phần trăm"),
    ("percent whole", "100% xã có loa", "một trăm phần trăm xã có loa"),
    ("percent small decimal", "giảm 0,05%", "giảm không phẩy không năm phần trăm"),
    ("percent range", "tăng 10-15%", "tăng mười đến mười lăm phần trăm"),
    ("money dong", "lệ phí 50.000 đồng", "lệ phí năm mươi nghìn đồng"),
    ("money billion decimal", "kinh phí 1,2 tỷ đồng", "kinh phí một phẩy hai tỷ đồng"),
    ("money đ", "giá 50.000đ", "giá năm mươi nghìn đồng"),
    ("money VNĐ", "hỗ trợ 200.000 VNĐ/người", "hỗ trợ hai trăm nghìn đồng trên người"),
    ("money VND", "500.000 VND", "năm trăm nghìn đồng"),
    ("money USD", "10 USD", "mười đô la Mỹ"),
    ("unit km", "cách trung tâm 12 km", "cách trung tâm mười hai ki lô mét"),
    ("unit km glued", "dài 3km", "dài ba ki lô mét"),
    ("unit m", "cột loa cao 6 m", "cột loa cao sáu mét"),
    ("unit ha", "diện tích 250 ha", "diện tích hai trăm năm mươi héc ta"),
    ("unit kg", "cấp 10 kg gạo", "cấp mười ki lô gam gạo"),
    ("unit tấn per ha", "năng suất 6 tấn/ha", "năng suất sáu tấn trên héc ta"),
    ("unit celsius", "nhiệt độ 35°C", "nhiệt độ ba mươi lăm độ xê"),
    ("unit celsius range", "nhiệt độ 20-25°C", "nhiệt độ hai mươi đến hai mươi lăm độ xê"),
    ("unit speed", "gió giật 60 km/h", "gió giật sáu mươi ki lô mét trên giờ"),
    ("unit m2", "nhà văn hóa 120 m2", "nhà văn hóa một trăm hai mươi mét vuông"),
    ("unit m²", "phòng 45 m²", "phòng bốn mươi lăm mét vuông"),
    ("unit kW", "máy phát 5 kW", "máy phát năm ki lô oát"),
    ("unit watt", "loa 120 W", "loa một trăm hai mươi oát"),
    # --- dates
    ("date d/m/yyyy", "ban hành ngày 28/9/2021", f"ban hành ngày hai mươi tám tháng chín năm {Y2021}"),
    ("date bare gets ngày", "Hạn chót 28/9/2021.", f"Hạn chót ngày hai mươi tám tháng chín năm {Y2021}."),
    (
        "date leading zeros",
        "Quyết định số 38/QĐ-UBND ngày 18/01/2021 của Ủy ban nhân dân tỉnh",
        f"Quyết định số ba mươi tám ngày mười tám tháng một năm {Y2021} của Ủy ban nhân dân tỉnh",
    ),
    ("date july", "ngày 15/7/2021", f"ngày mười lăm tháng bảy năm {Y2021}"),
    ("date april is tư", "ngày 24/4/2018", "ngày hai mươi tư tháng tư năm hai nghìn không trăm mười tám"),
    ("date day 4 is bốn", "ngày 4/3/2024", f"ngày bốn tháng ba năm {Y2024}"),
    ("date words", "Gia Lai, ngày 28 tháng 9 năm 2021", f"Gia Lai, ngày hai mươi tám tháng chín năm {Y2021}"),
    (
        "date words april",
        "Quảng Trị, ngày 29 tháng 4 năm 2023",
        "Quảng Trị, ngày hai mươi chín tháng tư năm hai nghìn không trăm hai mươi ba",
    ),
    ("date words january", "ngày 1 tháng 1 năm 2025", f"ngày một tháng một năm {Y2025}"),
    (
        "month/year with tháng",
        "hoàn thành trong tháng 12/2026",
        "hoàn thành trong tháng mười hai năm hai nghìn không trăm hai mươi sáu",
    ),
    ("month/year bare", "hoàn thành 12/2026", "hoàn thành tháng mười hai năm hai nghìn không trăm hai mươi sáu"),
    ("year", "Thường xuyên trong năm 2024.", f"Thường xuyên trong năm {Y2024}."),
    ("month four", "từ tháng 4", "từ tháng tư"),
    ("month one", "tháng 1 hằng năm", "tháng một hằng năm"),
    ("month range", "tháng 1-3", "tháng một đến tháng ba"),
    ("day/month after từ", "từ 24/9 đến 30/9", "từ ngày hai mươi tư tháng chín đến ngày ba mươi tháng chín"),
    ("day/month range", "phát 24/9 - 30/9", "phát ngày hai mươi tư tháng chín đến ngày ba mươi tháng chín"),
    (
        "date range",
        "từ 01/10/2024 - 31/10/2024",
        f"từ ngày một tháng mười năm {Y2024} đến ngày ba mươi mốt tháng mười năm {Y2024}",
    ),
    ("iso date", "cập nhật 2021-09-28", f"cập nhật ngày hai mươi tám tháng chín năm {Y2021}"),
    ("invalid date stays numbers", "tỷ lệ 45/60", "tỷ lệ bốn mươi lăm trên sáu mươi"),
    ("bare day/month ending a phrase", "Hạn nộp: 30/6.", "Hạn nộp: ngày ba mươi tháng sáu."),
    ("bare day/month before năm", "Lễ 2/9 năm nay", "Lễ ngày hai tháng chín năm nay"),
    (
        "day/month-like ratio before a noun",
        "xếp thứ 25/63 tỉnh, đạt 15/19 tiêu chí",
        "xếp thứ hai mươi lăm trên sáu mươi ba tỉnh, đạt mười lăm trên mười chín tiêu chí",
    ),
    ("quarter and year", "Kết quả Quý IV/2024 và quý 1/2025.", f"Kết quả Quý bốn năm {Y2024} và quý một năm {Y2025}."),
    # --- times
    ("time h-m", "phát lúc 17h30", "phát lúc mười bảy giờ ba mươi phút"),
    ("time h", "bắt đầu 17h", "bắt đầu mười bảy giờ"),
    ("time colon", "lúc 17:30", "lúc mười bảy giờ ba mươi phút"),
    ("time colon zero minutes", "lúc 05:30 và 07:00", "lúc năm giờ ba mươi phút và bảy giờ"),
    ("time words", "5 giờ 30", "năm giờ ba mươi"),
    ("time range", "lặp lại từ 07:00–20:00", "lặp lại từ bảy giờ đến hai mươi giờ"),
    ("time southern g", "17g30", "mười bảy giờ ba mươi phút"),
    ("grams are not hours", "5g muối", "năm gam muối"),
    # --- ranges and periods
    ("period spaced hyphen", "giai đoạn 2021 - 2030", f"giai đoạn {Y2021} đến {Y2030}"),
    (
        "period hyphen",
        "Kế hoạch CCHC giai đoạn 2021-2025",
        f"Kế hoạch cải cách hành chính giai đoạn {Y2021} đến {Y2025}",
    ),
    ("period en dash", "giai đoạn 2021 – 2030 của Chính phủ", f"giai đoạn {Y2021} đến {Y2030} của Chính phủ"),
    ("period en dash tight", "giai đoạn 2021–2025", f"giai đoạn {Y2021} đến {Y2025}"),
    ("duration range", "mỗi buổi 15–60 phút", "mỗi buổi mười lăm đến sáu mươi phút"),
    ("period old", "giai đoạn 2011-2020", "giai đoạn hai nghìn không trăm mười một đến hai nghìn không trăm hai mươi"),
    # --- ordinals and Roman numerals
    ("ordinal tư", "Hội nghị lần thứ 4", "Hội nghị lần thứ tư"),
    ("ordinal nhất", "đạt giải thứ 1", "đạt giải thứ nhất"),
    ("ordinal six", "Hội nghị Trung ương lần thứ 6", "Hội nghị Trung ương lần thứ sáu"),
    ("ordinal rank", "xếp hạng 4", "xếp hạng tư"),
    ("ordinal roman", "Đại hội lần thứ XIII", "Đại hội lần thứ mười ba"),
    (
        "roman quarter",
        "Thời gian thực hiện: Quý I, Quý II năm 2024.",
        f"Thời gian thực hiện: Quý một, Quý hai năm {Y2024}.",
    ),
    ("roman term", "Ban Chấp hành Trung ương Đảng khóa XII", "Ban Chấp hành Trung ương Đảng khóa mười hai"),
    (
        "roman term old accent",
        "Ban Chấp hành Đảng bộ tỉnh Gia Lai (khoá XVI)",
        "Ban Chấp hành Đảng bộ tỉnh Gia Lai, khoá mười sáu",
    ),
    ("roman chapter", "Chương III", "Chương ba"),
    ("roman part", "Phần I. Mục đích", "Phần một. Mục đích"),
    ("roman item", "Mục IV", "Mục bốn"),
    ("roman century", "thế kỷ XXI", "thế kỷ hai mươi mốt"),
    ("roman congress", "Đại hội XIII của Đảng", "Đại hội mười ba của Đảng"),
    ("roman heading", "I. MỤC ĐÍCH, YÊU CẦU VÀ ĐỐI TƯỢNG", "một. mục đích, yêu cầu và đối tượng"),
    (
        "roman heading markdown",
        "### **III. HÌNH THỨC, BIỆN PHÁP TUYÊN TRUYỀN**",
        "ba. hình thức, biện pháp tuyên truyền",
    ),
    ("roman without cue after line break", "XII về đổi mới", "mười hai về đổi mới"),
    ("initial is not roman", "Nguyễn Văn X", "Nguyễn Văn X"),
    ("numbered heading", "##### 1. Mục đích", "một. Mục đích"),
    ("lettered list", "a) Nội dung:", "a, Nội dung:"),
    ("lettered list b", "b) Cơ quan thực hiện: Sở Nội vụ.", "bê, Cơ quan thực hiện: Sở Nội vụ."),
    # --- fractions and rates
    ("fraction", "3/4 số hộ", "ba phần tư số hộ"),
    ("ratio", "200/300 hộ", "hai trăm trên ba trăm hộ"),
    ("rate after word", "(01 chuyên mục/01 tháng)", "một chuyên mục trên một tháng"),
    ("round the clock", "trực 24/7", "trực hai mươi tư trên bảy"),
    # --- phone numbers
    ("phone dotted", "Số điện thoại 0269.3823.456", "Số điện thoại không hai sáu chín, ba tám hai ba, bốn năm sáu"),
    ("hotline short", "đường dây nóng 1022", "đường dây nóng một không hai hai"),
    ("hotline spaced", "hotline 0912 345 678", "hotline không chín một hai, ba bốn năm, sáu bảy tám"),
    ("phone area code", "ĐT: (0269) 3.823.456", "điện thoại: không hai sáu chín, ba tám hai ba, bốn năm sáu"),
    (
        "phone by shape",
        "Gọi 0912345678 để được hỗ trợ",
        "Gọi không chín một hai, ba bốn năm, sáu bảy tám để được hỗ trợ",
    ),
    (
        "phone with phrase",
        "Đường dây nóng của tỉnh: 0269 3823 456",
        "Đường dây nóng của tỉnh: không hai sáu chín, ba tám hai ba, bốn năm sáu",
    ),
    (
        "phone single digit group",
        "Đường dây nóng: 0269 3 823 456",
        "Đường dây nóng: không hai sáu chín, ba tám hai ba, bốn năm sáu",
    ),
    (
        "hotline stops before a count",
        "đường dây nóng 1022 hoạt động 24 giờ",
        "đường dây nóng một không hai hai hoạt động hai mươi tư giờ",
    ),
    (
        "toll-free line",
        "Tổng đài 1900 1234 hoặc 1800.1234",
        "Tổng đài một chín không không, một hai ba bốn hoặc một tám không không, một hai ba bốn",
    ),
    ("emergency number", "Khi có cháy, gọi ngay 114.", "Khi có cháy, gọi ngay một một bốn."),
    ("count after gọi is a number", "gọi 120 hộ dân", "gọi một trăm hai mươi hộ dân"),
    ("phone international", "+84 912 345 678", "cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám"),
    (
        "cue without number",
        "điện thoại đường dây nóng tiếp nhận phản ánh, kiến nghị về TTHC",
        "điện thoại đường dây nóng tiếp nhận phản ánh, kiến nghị về thủ tục hành chính",
    ),
    # --- web and e-mail addresses
    ("url bare", "dichvucong.gov.vn", "dịch vụ công chấm gốp chấm vê en"),
    (
        "url angle brackets",
        "tại địa chỉ <http://dichvucong.gialai.gov.vn>;",
        "tại địa chỉ dịch vụ công chấm gia lai chấm gốp chấm vê en;",
    ),
    (
        "url path not read",
        "<https://gialai.gov.vn/van-ban-chi-dao-dieu-hanh/1389kh-ubnd.4727.aspx>",
        "gia lai chấm gốp chấm vê en",
    ),
    (
        "url markdown link",
        "tại địa chỉ [csdl.dichvucong.gov.vn](http://csdl.dichvucong.gov.vn) với Cổng",
        "tại địa chỉ xê ét dê e lờ chấm dịch vụ công chấm gốp chấm vê en với Cổng",
    ),
    (
        "url in parentheses",
        "cơ sở dữ liệu quốc gia về thủ tục hành chính (csdl.thutuchanhchinh.vn) với",
        "cơ sở dữ liệu quốc gia về thủ tục hành chính, xê ét dê e lờ chấm thủ tục hành chính chấm vê en, với",
    ),
    ("url www", "https://www.gialai.gov.vn", "vê kép vê kép vê kép chấm gia lai chấm gốp chấm vê en"),
    ("url unknown label split", "quangngai.gov.vn", "quang ngai chấm gốp chấm vê en"),
    ("url keeps full stop", "Xem tại dichvucong.gov.vn.", "Xem tại dịch vụ công chấm gốp chấm vê en."),
    ("email", "Email: vanthu@gialai.gov.vn", "Email: van thu a còng gia lai chấm gốp chấm vê en"),
    # --- document codes
    (
        "doc code generic",
        "Số: 1722/STTTT-TTBCXB",
        "Số: một nghìn bảy trăm hai mươi hai gạch Sở Thông tin và Truyền thông gạch Thông tin - Báo chí - Xuất bản",
    ),
    (
        "doc code space before slash",
        "Số: 300 /STTTT-TTBCXB",
        "Số: ba trăm gạch Sở Thông tin và Truyền thông gạch Thông tin - Báo chí - Xuất bản",
    ),
    (
        "doc code typed issuer said later",
        "Thực hiện Nghị quyết số 76/NQ-CP ngày 15/7/2021 của Chính phủ",
        f"Thực hiện Nghị quyết số bảy mươi sáu ngày mười lăm tháng bảy năm {Y2021} của Chính phủ",
    ),
    (
        "doc code typed issuer added",
        "Kế hoạch hành động thực hiện Nghị quyết 01/NQ-CP.",
        "Kế hoạch hành động thực hiện Nghị quyết một của Chính phủ.",
    ),
    ("doc code type added", "theo 76/NQ-CP", "theo nghị quyết số bảy mươi sáu của Chính phủ"),
    ("doc code after Số:", "Số: 76/NQ-CP", "Số: bảy mươi sáu, nghị quyết của Chính phủ"),
    (
        "doc code with year",
        "theo Nghị định số 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ",
        "theo Nghị định số sáu mươi mốt năm hai nghìn không trăm mười tám ngày hai mươi ba tháng tư năm hai nghìn "
        "không trăm mười tám của Chính phủ",
    ),
    (
        "doc code issuer expanded",
        "Kế hoạch số 1389/KH-UBND ngày 24/9/2021 về việc",
        f"Kế hoạch số một nghìn ba trăm tám mươi chín của Ủy ban nhân dân ngày hai mươi tư tháng chín năm {Y2021} "
        "về việc",
    ),
    (
        "doc code issuer named before",
        "được Thủ tướng Chính phủ phê duyệt tại Quyết định số 1847/QĐ-TTg.",
        "được Thủ tướng Chính phủ phê duyệt tại Quyết định số một nghìn tám trăm bốn mươi bảy.",
    ),
    (
        "doc code party",
        "Nghị quyết số 04-NQ/TU ngày 20/01/2022",
        "Nghị quyết số bốn của Tỉnh ủy ngày hai mươi tháng một năm hai nghìn không trăm hai mươi hai",
    ),
    (
        "doc code circular",
        "Thông tư 39/2020/TT-BTTTT",
        "Thông tư ba mươi chín năm hai nghìn không trăm hai mươi của Bộ Thông tin và Truyền thông",
    ),
    (
        "doc code assembly",
        "Luật số 15/2012/QH13",
        "Luật số mười lăm năm hai nghìn không trăm mười hai của Quốc hội khóa mười ba",
    ),
    (
        "doc code issuer only",
        "Chương trình hành động số 921/UBND ngày 12/5/2023",
        "Chương trình hành động số chín trăm hai mươi mốt của Ủy ban nhân dân ngày mười hai tháng năm năm hai nghìn "
        "không trăm hai mươi ba",
    ),
    (
        "doc code unknown part spelled",
        "Công văn số 15/ABC-UBND",
        "Công văn số mười lăm gạch a bê xê gạch Ủy ban nhân dân",
    ),
    ("doc code no number", "Số: /KH-UBND", "Số: kế hoạch của Ủy ban nhân dân"),
    # --- abbreviations
    (
        "abbr CCHC defined once",
        "tuyên truyền cải cách hành chính (CCHC) để thực hiện tốt Kế hoạch CCHC",
        "tuyên truyền cải cách hành chính để thực hiện tốt Kế hoạch cải cách hành chính",
    ),
    ("abbr UBND defined once", "Ủy ban nhân dân (UBND) tỉnh", "Ủy ban nhân dân tỉnh"),
    ("abbr expansion in parentheses", "TTHC (thủ tục hành chính)", "thủ tục hành chính"),
    ("abbr TT&TT defined once", "Sở Thông tin và Truyền thông (TT&TT) đề nghị", "Sở Thông tin và Truyền thông đề nghị"),
    ("abbr HĐND", "TT. HĐND tỉnh;", "Thường trực Hội đồng nhân dân tỉnh;"),
    ("abbr MTTQVN", "Ủy ban MTTQVN và các Đoàn thể tỉnh;", "Ủy ban Mặt trận Tổ quốc Việt Nam và các Đoàn thể tỉnh;"),
    (
        "abbr CB,CC,VC",
        "giám sát cơ quan nhà nước, đội ngũ CB,CC,VC trong quá trình thực thi công vụ",
        "giám sát cơ quan nhà nước, đội ngũ cán bộ, công chức, viên chức trong quá trình thực thi công vụ",
    ),
    (
        "abbr Sở TT&TT",
        "trang thông tin điện tử của Sở TT&TT.",
        "trang thông tin điện tử của Sở Thông tin và Truyền thông.",
    ),
    ("abbr Đài PT-TH", "Báo Gia Lai; Đài PT-TH Gia Lai;", "Báo Gia Lai; Đài Phát thanh - Truyền hình Gia Lai;"),
    (
        "abbr VH&TT list",
        "Phòng VH&TT, TTVH, TT&TT cấp huyện;",
        "Phòng Văn hóa và Thông tin, Trung tâm Văn hóa, Thông tin và Truyền thông cấp huyện;",
    ),
    ("abbr VH-TT-TD", "Trung tâm VH-TT-TD các huyện", "Trung tâm Văn hóa - Thông tin - Thể dục thể thao các huyện"),
    ("abbr BCĐ", "BCĐ phòng, chống dịch", "Ban Chỉ đạo phòng, chống dịch"),
    ("abbr KT-XH", "phát triển KT-XH", "phát triển kinh tế - xã hội"),
    ("abbr ATTP BHYT BHXH", "ATTP, BHYT, BHXH", "an toàn thực phẩm, bảo hiểm y tế, bảo hiểm xã hội"),
    ("abbr PCCC NTM DVC", "PCCC; NTM; DVC", "phòng cháy, chữa cháy; nông thôn mới; dịch vụ công"),
    (
        "abbr indices",
        "Chỉ số CCHC (PAR INDEX), SIPAS, PAPI, PCI, DDCI",
        "Chỉ số cải cách hành chính, pa in đéc, xi pát, pa pi, pê xê i, đê đê xê i",
    ),
    ("abbr signature", "KT. GIÁM ĐỐC", "Ký thay giám đốc"),
    ("abbr signature glued", "KT.GIÁM ĐỐC", "Ký thay giám đốc"),
    ("abbr on behalf", "TM. ỦY BAN NHÂN DÂN", "Thay mặt ủy ban nhân dân"),
    ("abbr recipients", "CT, các PCT.UBND tỉnh;", "Chủ tịch, các Phó Chủ tịch Ủy ban nhân dân tỉnh;"),
    (
        "abbr archive",
        "Lưu: VT,VP, P.CNTT, P.TTBCXB.",
        "Lưu: Văn thư, Văn phòng, Phòng công nghệ thông tin, Phòng Thông tin - Báo chí - Xuất bản.",
    ),
    ("abbr subject line", "V/v tuyên truyền cải cách hành chính", "về việc tuyên truyền cải cách hành chính"),
    ("abbr report", "UBND tỉnh (b/c);", "Ủy ban nhân dân tỉnh, báo cáo;"),
    ("abbr with digits", "phòng, chống dịch COVID-19", "phòng, chống dịch cô vít mười chín"),
    ("abbr unknown spelled", "Chỉ số ICT và IPA", "Chỉ số i xê tê và i pê a"),
    ("abbr unknown NC spelled", "Lưu: VT, NC.", "Lưu: Văn thư, en nờ xê."),
    ("caps heading lowercased", "UBND TỈNH QUẢNG TRỊ", "Ủy ban nhân dân tỉnh quảng trị"),
    ("caps national motto", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", "cộng hoà xã hội chủ nghĩa việt nam"),
    # --- punctuation and markup
    ("bullet stripped", "- Sở Nội vụ;", "Sở Nội vụ;"),
    (
        "plus bullet stripped",
        "+ Hệ thống thông tin cơ sở trên địa bàn tỉnh.",
        "Hệ thống thông tin cơ sở trên địa bàn tỉnh.",
    ),
    ("bold stripped", "**3. Đối tượng:** Đối tượng được tuyên truyền", "ba. Đối tượng: Đối tượng được tuyên truyền"),
    ("end mark", "triển khai thực hiện./.", "triển khai thực hiện."),
    ("slash between words", "chỉ đạo Đài/Trạm Truyền thanh xã", "chỉ đạo Đài, Trạm Truyền thanh xã"),
    ("parentheses become pauses", "hấp dẫn (ngắn gọn, dễ hiểu)... nhằm", "hấp dẫn, ngắn gọn, dễ hiểu... nhằm"),
    ("motto glued dashes", "Độc lập-Tự do-Hạnh phúc", "Độc lập - Tự do - Hạnh phúc"),
    ("dash before lowercase", "các tổ chức chính trị -xã hội", "các tổ chức chính trị - xã hội"),
    ("quotes kept", "chuyên mục “cải cách hành chính” trên sóng", "chuyên mục “cải cách hành chính” trên sóng"),
    ("ampersand", "Sở Khoa học & Công nghệ", "Sở Khoa học và Công nghệ"),
    (
        "plain sentence untouched",
        "Nhận được văn bản, đề nghị các đơn vị quan tâm, triển khai thực hiện.",
        "Nhận được văn bản, đề nghị các đơn vị quan tâm, triển khai thực hiện.",
    ),
]

SOUTH_CASES: list[tuple[str, str, str]] = [
    ("south lẻ", "105 hộ", "một trăm lẻ năm hộ"),
    ("south ngàn", "50.000 đồng", "năm mươi ngàn đồng"),
    ("south year", "năm 2021", "năm hai ngàn không trăm hai mươi mốt"),
    ("south date", "ngày 05/01/2008", "ngày năm tháng một năm hai ngàn không trăm lẻ tám"),
    ("south phone unchanged", "đường dây nóng 1022", "đường dây nóng một không hai hai"),
]


@pytest.mark.parametrize(("rule", "written", "spoken"), CASES, ids=[rule for rule, _, _ in CASES])
def test_northern_reading(rule: str, written: str, spoken: str) -> None:
    assert normalize(written) == spoken


@pytest.mark.parametrize(("rule", "written", "spoken"), SOUTH_CASES, ids=[rule for rule, _, _ in SOUTH_CASES])
def test_southern_reading(rule: str, written: str, spoken: str) -> None:
    assert normalize(written, variant="south") == spoken


def test_the_table_covers_enough_cases() -> None:
    assert len(CASES) + len(SOUTH_CASES) >= 120
    assert len({written for _, written, _ in CASES}) == len(CASES), "duplicate inputs in the table"
