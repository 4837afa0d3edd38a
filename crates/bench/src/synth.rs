//! Synthetic residents for the demo and the benchmark: deterministic from an index,
//! varied enough to exercise both name scripts and the foreign-resident rules.

use maina_core::resident::RegistrationForm;

const FAMILY: [(&str, &str); 12] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
];
const GIVEN: [(&str, &str, &str); 10] = [
    ("太郎", "タロウ", "male"),
    ("花子", "ハナコ", "female"),
    ("翔", "ショウ", "male"),
    ("陽菜", "ヒナ", "female"),
    ("蓮", "レン", "male"),
    ("結衣", "ユイ", "female"),
    ("大翔", "ヒロト", "male"),
    ("さくら", "サクラ", "female"),
    ("健一", "ケンイチ", "male"),
    ("美咲", "ミサキ", "female"),
];
const FOREIGN: [(&str, &str, &str); 6] = [
    ("NGUYEN VAN AN", "VN", "technical-intern-training"),
    ("WANG XIAOMING", "CN", "student"),
    ("SANTOS MARIA", "PH", "spouse-of-japanese-national"),
    ("SMITH JOHN", "US", "engineer-humanities-international"),
    ("KIM MINJUN", "KR", "special-permanent-resident"),
    ("SILVA ANA", "BR", "long-term-resident"),
];

/// Synthetic resident number `index` of `municipality`.
pub fn resident(index: u64, municipality: &str) -> RegistrationForm {
    let pick = |n: usize| (index as usize / n) % 1000;
    let year = 1940 + (index % 80);
    let month = 1 + (index / 7) % 12;
    let day = 1 + (index / 3) % 28;
    let mut form = RegistrationForm {
        municipality: Some(municipality.to_string()),
        reason: Some("move-in-from-abroad".into()),
        birth_date: Some(format!("{year:04}-{month:02}-{day:02}")),
        address: Some(format!(
            "東京都千代田区千代田{}-{}-{}",
            1 + index % 9,
            1 + pick(9) % 20,
            1 + pick(180) % 30
        )),
        ..Default::default()
    };
    if index % 10 == 7 {
        let (name, nationality, status) = FOREIGN
            .get((index as usize / 10) % FOREIGN.len())
            .copied()
            .unwrap_or(("SMITH JOHN", "US", "student"));
        form.alphabet_name = Some(name.into());
        form.nationality = Some(nationality.into());
        form.passport = Some(format!("P{index:08}"));
        form.residence_status = Some(status.into());
        form.period_of_stay = Some(if status == "special-permanent-resident" {
            String::new()
        } else {
            "3y".into()
        });
        form.sex = Some(
            if index.is_multiple_of(2) {
                "male"
            } else {
                "female"
            }
            .into(),
        );
    } else {
        let (family, family_kana) = FAMILY
            .get(index as usize % FAMILY.len())
            .copied()
            .unwrap_or(("山田", "ヤマダ"));
        let (given, given_kana, sex) = GIVEN
            .get((index as usize / 12) % GIVEN.len())
            .copied()
            .unwrap_or(("太郎", "タロウ", "male"));
        form.family_name = Some(family.into());
        form.family_kana = Some(family_kana.into());
        form.given_name = Some(given.into());
        form.given_kana = Some(given_kana.into());
        form.sex = Some(sex.into());
    }
    form
}
