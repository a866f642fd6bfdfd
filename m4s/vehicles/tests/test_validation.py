"""VIN, licence-plate and ID-number rules, and the synthetic data that must obey them."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m4s.demo.synthetic import (
    FUELS,
    make_address,
    make_chinese_name,
    make_id_number,
    make_mobile,
    make_plate,
    make_vehicle_model,
    make_vin,
)
from m4s.owners.phones import normalize_mobile
from m4s.vehicles.validation import (
    PLATE_PROVINCES,
    VIN_ALPHABET,
    VIN_TRANSLITERATION,
    VIN_WEIGHTS,
    PlateError,
    VinError,
    id_number_is_valid,
    is_valid_plate,
    is_valid_vin,
    normalize_plate,
    normalize_vin,
    plate_kind,
    plate_search_key,
    vin_check_digit,
    vin_model_year,
)

seeds = st.integers(min_value=0, max_value=2**64)

# --------------------------------------------------------------------------------------------
# VIN

# 1M8GDM9AXKP042788, worked by hand: values 1 4 8 7 4 4 9 1 _ 2 7 0 4 2 7 8 8 times weights
# 8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2 sum to 351; 351 = 31 * 11 + 10, and 10 is written X.
TEXTBOOK_VIN = "1M8GDM9AXKP042788"
# All ones: the weights sum to 89 = 8 * 11 + 1, so the check digit is 1.
ALL_ONES_VIN = "11111111111111111"


@pytest.mark.parametrize(("vin", "check"), [(TEXTBOOK_VIN, "X"), (ALL_ONES_VIN, "1")])
def test_known_vins_have_the_expected_check_digit(vin, check):
    assert vin_check_digit(vin) == check
    assert normalize_vin(vin) == vin
    assert is_valid_vin(vin)


@pytest.mark.parametrize(
    "raw",
    ["1m8gdm9axkp042788", " 1M8 GDM9AX-KP042788 ", "1M8-GDM-9AX-KP0-42788", "１Ｍ８GDM9AXKP042788"],
)
def test_vin_is_cleaned_and_upper_cased(raw):
    assert normalize_vin(raw) == TEXTBOOK_VIN


@pytest.mark.parametrize("raw", ["", "1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "LVG"])
def test_vin_of_wrong_length_is_refused(raw):
    with pytest.raises(VinError) as caught:
        normalize_vin(raw)
    assert caught.value.code == "vin_length"
    assert str(len(raw)) in str(caught.value.message)


@pytest.mark.parametrize(
    ("raw", "char"),
    [
        ("1M8GDM9AXKPO42788", "O"),  # O typed for 0
        ("IM8GDM9AXKP042788", "I"),
        ("1M8GDM9AXKQ042788", "Q"),
        ("1M8GDM9AXKP04278#", "#"),
        ("1M8GDM9AXKP04278Ä", "Ä"),
    ],
)
def test_vin_with_forbidden_characters_is_refused(raw, char):
    with pytest.raises(VinError) as caught:
        normalize_vin(raw)
    assert caught.value.code == "vin_characters"
    assert f"'{char}'" in str(caught.value.message)
    assert not is_valid_vin(raw)


def test_vin_with_one_mistyped_character_fails_the_check_digit():
    typo = "1M8GDM9AXKP042789"  # last 8 typed as 9: sum 353, remainder 1
    with pytest.raises(VinError) as caught:
        normalize_vin(typo)
    assert caught.value.code == "vin_check_digit"
    assert caught.value.message == (
        "The VIN's check digit (9th character) should be '1' but is 'X': "
        "a character was probably mistyped."
    )
    assert isinstance(caught.value, ValueError)


def test_vin_with_wrong_check_digit_itself_is_refused():
    assert not is_valid_vin("1M8GDM9A5KP042788")
    assert not is_valid_vin("11111111211111111")


@given(seeds)
def test_every_generated_vin_is_valid(seed):
    vin = make_vin(random.Random(seed))
    assert normalize_vin(vin) == vin
    assert 2015 <= vin_model_year(vin, current_year=2025) <= 2025
    assert vin[:1] == "L"  # made in China


@given(seeds, st.data())
def test_changing_any_weighted_character_breaks_the_check_digit(seed, data):
    """Weights 2-10 and value differences 1-8 never cancel modulo the prime 11."""
    vin = make_vin(random.Random(seed))
    position = data.draw(
        st.sampled_from([i for i, weight in enumerate(VIN_WEIGHTS) if weight]), label="position"
    )
    old_value = VIN_TRANSLITERATION[vin[position]]
    replacement = data.draw(
        st.sampled_from(sorted(c for c in VIN_ALPHABET if VIN_TRANSLITERATION[c] != old_value)),
        label="replacement",
    )
    mutated = vin[:position] + replacement + vin[position + 1 :]
    with pytest.raises(VinError) as caught:
        normalize_vin(mutated)
    assert caught.value.code == "vin_check_digit"


@given(seeds, st.sampled_from(sorted(VIN_ALPHABET)))
def test_changing_the_check_digit_itself_is_caught(seed, replacement):
    vin = make_vin(random.Random(seed))
    mutated = vin[:8] + replacement + vin[9:]
    assert is_valid_vin(mutated) == (replacement == vin[8])


@pytest.mark.parametrize(
    ("code", "current_year", "year"),
    [
        ("A", 2025, 2010),
        ("Y", 2025, 2000),
        ("1", 2025, 2001),
        ("9", 2025, 2009),
        ("S", 2025, 2025),
        ("T", 2025, 2026),  # next year's models go on sale this year
        ("V", 2025, 1997),  # 2027 would be more than a year ahead
        ("A", 2039, 2040),
        ("L", 2005, 1990),
    ],
)
def test_model_year_is_the_latest_candidate_not_after_next_year(code, current_year, year):
    vin = ALL_ONES_VIN[:9] + code + ALL_ONES_VIN[10:]
    assert vin_model_year(vin, current_year=current_year) == year


@pytest.mark.parametrize("code", ["0", "U", "Z", "I", "O", "Q"])
def test_characters_that_are_no_model_year_give_none(code):
    assert vin_model_year(ALL_ONES_VIN[:9] + code + ALL_ONES_VIN[10:], current_year=2025) is None


def test_model_year_of_text_that_is_no_vin_is_none():
    assert vin_model_year("LVG") is None
    assert vin_model_year(TEXTBOOK_VIN.lower(), current_year=2025) == 2019


# --------------------------------------------------------------------------------------------
# Licence plates


@pytest.mark.parametrize(
    ("raw", "plate", "kind"),
    [
        ("京A12345", "京A12345", "ordinary"),
        ("京A·12345", "京A12345", "ordinary"),
        (" 京a-123 45 ", "京A12345", "ordinary"),
        ("京ＡＢ１２３４", "京AB1234", "ordinary"),  # full-width letters and digits
        ("苏E1234挂", "苏E1234挂", "ordinary"),  # trailer
        ("京A1234学", "京A1234学", "ordinary"),  # learner
        ("粤Z1234港", "粤Z1234港", "ordinary"),  # Hong Kong cross-border
        ("京AD1234", "京AD1234", "ordinary"),  # 7 characters: an ordinary plate with a D
        ("粤BD12345", "粤BD12345", "new_energy"),  # small, battery-electric
        ("粤B·FA1234", "粤BFA1234", "new_energy"),  # small, plug-in hybrid
        ("粤BA12345", "粤BA12345", "new_energy"),  # newer pure-electric letter
        ("沪A12345D", "沪A12345D", "new_energy"),  # large, battery-electric
        ("沪A12345F", "沪A12345F", "new_energy"),  # large, other
    ],
)
def test_valid_plates_are_normalised(raw, plate, kind):
    assert normalize_plate(raw) == plate
    assert plate_kind(raw) == kind
    assert is_valid_plate(raw)


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("京I12345", "never I or O"),  # I is no office letter
        ("京A12O45", "5 letters or digits"),  # nor part of the serial
        ("A12345", "province"),
        ("XX12345", "province"),
        ("京A1234", "this one has 6"),
        ("京AD123", "this one has 6"),  # new-energy and too short
        ("京A123456", "new-energy"),  # 8 characters but no D/F
        ("粤BD1234X", "new-energy"),  # small new-energy plates end in 4 digits
        ("沪A1234AD", "new-energy"),  # large ones have 5 digits before the D
        ("京A12挂45", "5 letters or digits"),  # 挂 only at the end
        ("京A123456789", "this one has 11"),
        ("", "Enter a licence plate"),
        ("   ", "Enter a licence plate"),
    ],
)
def test_invalid_plates_are_refused_with_a_helpful_message(raw, hint):
    with pytest.raises(PlateError) as caught:
        normalize_plate(raw)
    assert caught.value.code == "invalid_plate"
    assert hint in str(caught.value.message)
    assert not is_valid_plate(raw)
    assert isinstance(caught.value, ValueError)


def test_plate_kind_of_invalid_plate_raises():
    with pytest.raises(PlateError):
        plate_kind("京A1234")


@pytest.mark.parametrize(
    ("partial", "key"),
    [
        ("a·123", "A123"),
        ("京ａ－１２", "京A12"),
        ("", ""),
        (" bd 12 ", "BD12"),
        ("粤B.D1", "粤BD1"),
    ],
)
def test_search_key_cleans_partial_plates_without_validating(partial, key):
    assert plate_search_key(partial) == key


@given(seeds, st.sampled_from(PLATE_PROVINCES), st.booleans())
def test_generated_plates_are_valid_and_of_the_asked_kind(seed, province, new_energy):
    plate = make_plate(random.Random(seed), province=province, new_energy=new_energy)
    assert normalize_plate(plate) == plate
    assert plate[0] == province
    assert plate_kind(plate) == ("new_energy" if new_energy else "ordinary")


def test_make_plate_refuses_an_unknown_province():
    with pytest.raises(ValueError, match="province"):
        make_plate(random.Random(1), province="X")


# --------------------------------------------------------------------------------------------
# Resident ID numbers

# GB 11643's own example, worked by hand: 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 times weights
# 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 sum to 167; 167 mod 11 = 2, which maps to X.
KNOWN_ID_NUMBER = "11010519491231002X"


def test_known_id_number_is_valid():
    assert id_number_is_valid(KNOWN_ID_NUMBER)
    assert id_number_is_valid(KNOWN_ID_NUMBER.lower())
    assert id_number_is_valid("440524188001010014")  # the standard's second example


@pytest.mark.parametrize(
    "raw",
    [
        "110105194912310021",  # check character changed from X to 1
        "11010519491231002",  # too short
        "11010519491231002XX",  # too long
        "11010519490231002X",  # 31 February is no date
        "110105194913310029",  # month 13
        "11010529991231002X",  # born in the future
        "",
    ],
)
def test_invalid_id_numbers_are_refused(raw):
    assert not id_number_is_valid(raw)


def test_id_number_accepts_full_width_digits_and_spaces_but_not_other_scripts():
    assert id_number_is_valid(" １１０１０５１９４９１２３１００２Ｘ ")
    assert not id_number_is_valid("1101051949123100٢X")  # Arabic-Indic two


@given(seeds)
def test_generated_id_numbers_are_valid_and_flipping_the_check_breaks_them(seed):
    number = make_id_number(random.Random(seed))
    assert id_number_is_valid(number)
    assert 1950 <= int(number[6:10]) <= 2004
    for other in "0123456789X":
        if other != number[-1]:
            assert not id_number_is_valid(number[:-1] + other)


# --------------------------------------------------------------------------------------------
# Other synthetic data


@given(seeds)
def test_generated_mobiles_are_valid_chinese_mobiles(seed):
    mobile = make_mobile(random.Random(seed))
    assert mobile.startswith("+861") and len(mobile) == 14
    assert normalize_mobile(mobile) == mobile


@given(seeds)
def test_generated_names_addresses_and_models_look_right(seed):
    rng = random.Random(seed)
    name = make_chinese_name(rng)
    assert 2 <= len(name) <= 3
    assert name[0] in "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    address = make_address(rng)
    assert address.startswith("北京市") and "区" in address and address.endswith("号")
    assert make_address(rng, city="成都市").startswith("成都市")
    brand, model, fuel = make_vehicle_model(rng)
    assert brand and model and fuel in FUELS


def test_generators_are_deterministic_for_a_seed():
    def batch(seed):
        rng = random.Random(seed)
        return [
            make_vin(rng),
            make_plate(rng),
            make_plate(rng, "粤", new_energy=True),
            make_chinese_name(rng),
            make_mobile(rng),
            make_address(rng),
            make_vehicle_model(rng),
            make_id_number(rng),
        ]

    assert batch(42) == batch(42)
    assert batch(42) != batch(43)
