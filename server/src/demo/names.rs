//! Word lists the demo fund is drawn from.

/// Family names with a rough weight (per thousand people in the South).
pub const FAMILY_NAMES: &[(&str, u32)] = &[
    ("Nguyễn", 300),
    ("Trần", 110),
    ("Lê", 90),
    ("Phạm", 70),
    ("Hoàng", 45),
    ("Huỳnh", 55),
    ("Phan", 40),
    ("Võ", 45),
    ("Đặng", 30),
    ("Bùi", 25),
    ("Đỗ", 25),
    ("Hồ", 20),
    ("Ngô", 20),
    ("Dương", 15),
    ("Lý", 10),
];

pub const FEMALE_MIDDLE: &[&str] = &[
    "Thị",
    "Thị",
    "Thị",
    "Thị",
    "Ngọc",
    "Thanh",
    "Thu",
    "Kim",
    "Mỹ",
    "Hồng",
    "Thị Thanh",
    "Thị Kim",
];

pub const MALE_MIDDLE: &[&str] = &[
    "Văn", "Văn", "Văn", "Minh", "Hoàng", "Quốc", "Đức", "Thanh", "Hữu", "Ngọc", "Công", "Tấn",
];

pub const FEMALE_GIVEN: &[&str] = &[
    "Lan",
    "Hương",
    "Mai",
    "Linh",
    "Trang",
    "Thảo",
    "Hoa",
    "Hạnh",
    "Nhung",
    "Yến",
    "Tuyết",
    "Hằng",
    "Loan",
    "Phượng",
    "Ngân",
    "Vy",
    "Thủy",
    "Diễm",
    "Oanh",
    "Hiền",
    "Nga",
    "Duyên",
    "Trinh",
    "Châu",
];

pub const MALE_GIVEN: &[&str] = &[
    "Hùng", "Dũng", "Tuấn", "Minh", "Phúc", "Khang", "Nam", "Long", "Sơn", "Tài", "Thắng", "Hải",
    "Cường", "Bảo", "Trí", "Lộc", "Phong", "Vinh", "Toàn", "Nghĩa",
];

/// Province codes of CCCD numbers (home provinces of many HCMC workers).
pub const PROVINCE_CODES: &[&str] = &[
    "079", "079", "083", "087", "094", "089", "040", "038", "052", "051", "086", "095", "096",
    "080", "082", "091", "093", "084", "092",
];

/// Mobile prefixes (Viettel, MobiFone, VinaPhone).
pub const MOBILE_PREFIXES: &[&str] = &[
    "086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039", "090",
    "093", "070", "079", "077", "076", "078", "091", "094", "088", "081", "082", "083", "084",
    "085",
];

/// Second half of boarding-house names: "Nhà trọ Cô Ba", ...
pub const HOUSE_NAMES: &[&str] = &[
    "Cô Ba",
    "Bà Tư",
    "Chú Sáu",
    "Cô Út",
    "Bà Năm",
    "Chú Bảy",
    "Anh Hai",
    "Chị Tám",
    "Thanh Bình",
    "Hạnh Phúc",
    "Phúc Lộc",
    "Minh Tâm",
    "Hoa Sen",
    "Bình An",
    "Tân Phát",
    "Kim Ngân",
    "Hồng Phúc",
    "An Khang",
    "Mỹ Linh",
    "Thuận Thành",
];

pub const HOUSE_PREFIXES: &[&str] = &["Nhà trọ", "Khu nhà trọ", "Dãy trọ"];

pub const HARDSHIP_NOTES: &[&str] = &[
    "Chồng bị tai nạn lao động, mất khả năng lao động",
    "Mẹ bị bệnh nặng, điều trị dài ngày",
    "Bị giảm giờ làm, thu nhập thấp",
    "Một mình nuôi hai con nhỏ",
    "Nhà ở quê bị thiệt hại do bão lũ",
    "Bản thân bị bệnh thận, chạy thận định kỳ",
    "Vợ chồng cùng mất việc do công ty cắt giảm đơn hàng",
    "Con bị bệnh tim bẩm sinh",
    "Bị tai nạn giao thông, nghỉ làm nhiều tháng",
    "Cha mẹ già yếu, là lao động chính trong gia đình",
];
