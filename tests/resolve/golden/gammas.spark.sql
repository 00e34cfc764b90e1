SELECT
  f.rid_l,
  f.rid_r,
  f.rule,
  f.rules,
  f.given_std_l,
  f.family_std_l,
  CAST(CASE
    WHEN given_std_l IS NULL OR given_std_r IS NULL
    THEN -1
    WHEN given_std_l = given_std_r
    THEN 4
    WHEN given_key_l = given_key_r
    THEN 3
    WHEN jw_given >= 0.92
    THEN 2
    WHEN jw_given >= 0.80
    OR given_dm1_l = given_dm1_r
    OR (
      LENGTH(given_std_l) = 1 AND STARTSWITH(given_std_r, given_std_l)
    )
    OR (
      LENGTH(given_std_r) = 1 AND STARTSWITH(given_std_l, given_std_r)
    )
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_given_name`,
  CAST(CASE
    WHEN family_std_l IS NULL OR family_std_r IS NULL
    THEN -1
    WHEN family_std_l = family_std_r
    THEN 4
    WHEN family_key_l = family_key_r
    OR (
      (
        CONTAINS(family_std_l, ' ') OR CONTAINS(family_std_r, ' ')
      )
      AND SIZE(
        ARRAY_INTERSECT(
          SPLIT(family_std_l, CONCAT('\\Q', ' ', '\\E')),
          CASE
            WHEN swapped
            THEN ARRAY(family_std_r)
            ELSE SPLIT(family_std_r, CONCAT('\\Q', ' ', '\\E'))
          END
        )
      ) > 0
    )
    THEN 3
    WHEN jw_family >= 0.92
    THEN 2
    WHEN jw_family >= 0.80 OR family_dm1_l = family_dm1_r
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_family_name`,
  CAST(CASE WHEN FALSE THEN -1 WHEN swapped THEN 1 WHEN TRUE THEN 0 ELSE 0 END AS TINYINT) AS `gamma_name_order`,
  CAST(CASE
    WHEN dob_y_l IS NULL OR dob_y_r IS NULL
    THEN -1
    WHEN dob_l = dob_r
    THEN 5
    WHEN NOT dob_l IS NULL
    AND NOT dob_r IS NULL
    AND dob_y_l = dob_y_r
    AND dob_m_l = dob_d_r
    AND dob_d_l = dob_m_r
    THEN 4
    WHEN ABS(DATEDIFF(DAY, dob_l, dob_r)) <= 1
    OR (
      NOT dob_l IS NULL
      AND NOT dob_r IS NULL
      AND dob_m_l = dob_m_r
      AND dob_d_l = dob_d_r
      AND ABS(dob_y_l - dob_y_r) = 1
    )
    THEN 3
    WHEN dob_y_l = dob_y_r AND dob_m_l = dob_m_r
    THEN 2
    WHEN ABS(DATEDIFF(DAY, dob_l, dob_r)) <= 366
    OR (
      dob_l IS NULL OR dob_r IS NULL
    )
    AND ABS((
      dob_y_l - dob_y_r
    ) * 12 + dob_m_l - dob_m_r) <= 12
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_dob`,
  CAST(CASE
    WHEN (
      ssn_l IS NULL OR ssn_r IS NULL
    )
    AND (
      ssn_last4_l IS NULL OR ssn_last4_r IS NULL
    )
    THEN -1
    WHEN ssn_l = ssn_r
    THEN 3
    WHEN (
      LENGTH(ssn_l) < 9
      OR LENGTH(ssn_r) < 9
      OR LEFT(ssn_l, 4) = LEFT(ssn_r, 4)
      OR RIGHT(ssn_l, 4) = RIGHT(ssn_r, 4)
    )
    AND ACCORD_DAMERAU_LEVENSHTEIN(ssn_l, ssn_r) = 1
    THEN 2
    WHEN ssn_last4_l = ssn_last4_r AND (
      ssn_l IS NULL OR ssn_r IS NULL
    )
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_ssn`,
  CAST(CASE
    WHEN a_number_l IS NULL OR a_number_r IS NULL
    THEN -1
    WHEN a_number_l = a_number_r
    THEN 2
    WHEN (
      LENGTH(a_number_l) < 9
      OR LENGTH(a_number_r) < 9
      OR LEFT(a_number_l, 4) = LEFT(a_number_r, 4)
      OR RIGHT(a_number_l, 4) = RIGHT(a_number_r, 4)
    )
    AND ACCORD_DAMERAU_LEVENSHTEIN(a_number_l, a_number_r) = 1
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_a_number`,
  CAST(CASE
    WHEN passport_l IS NULL OR passport_r IS NULL
    THEN -1
    WHEN passport_l = passport_r
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_passport`,
  CAST(CASE
    WHEN itin_l IS NULL OR itin_r IS NULL
    THEN -1
    WHEN itin_l = itin_r
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_itin`,
  CAST(CASE
    WHEN (
      postcode_l IS NULL OR postcode_r IS NULL
    )
    AND (
      city_std_l IS NULL OR city_std_r IS NULL
    )
    THEN -1
    WHEN postcode_l = postcode_r
    AND street_number_l = street_number_r
    AND street_name_l = street_name_r
    THEN 3
    WHEN postcode_l = postcode_r
    THEN 2
    WHEN city_std_l = city_std_r AND region_l = region_r
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_address`,
  CAST(CASE
    WHEN sex_l IS NULL OR sex_r IS NULL
    THEN -1
    WHEN sex_l = sex_r
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_sex`,
  CAST(CASE
    WHEN (
      other_id_l IS NULL OR other_id_r IS NULL
    )
    OR other_id_ns_l IS DISTINCT FROM other_id_ns_r
    THEN -1
    WHEN other_id_l = other_id_r
    THEN 2
    WHEN (
      LENGTH(other_id_l) < 9
      OR LENGTH(other_id_r) < 9
      OR LEFT(other_id_l, 4) = LEFT(other_id_r, 4)
      OR RIGHT(other_id_l, 4) = RIGHT(other_id_r, 4)
    )
    AND ACCORD_DAMERAU_LEVENSHTEIN(other_id_l, other_id_r) = 1
    THEN 1
    WHEN TRUE
    THEN 0
    ELSE 0
  END AS TINYINT) AS `gamma_other_id`
FROM (
  SELECT
    f.*,
    CASE
      WHEN f.given_std_l = f.given_std_r
      THEN 1.0
      WHEN f.given_key_l = f.given_key_r
      THEN NULL
      ELSE ACCORD_JARO_WINKLER(f.given_std_l, f.given_std_r)
    END AS jw_given,
    CASE
      WHEN f.family_std_l = f.family_std_r
      THEN 1.0
      WHEN f.family_key_l = f.family_key_r
      THEN NULL
      ELSE ACCORD_JARO_WINKLER(f.family_std_l, f.family_std_r)
    END AS jw_family
  FROM frame AS f
) AS f
