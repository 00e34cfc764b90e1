SELECT
  p.rid_l,
  p.rid_r,
  p.rule,
  p.rules,
  COALESCE(
    (
      l.given_key = r.family_key
      AND l.family_key = r.given_key
      AND l.given_key <> l.family_key
    ),
    FALSE
  ) AS swapped,
  l.`given_std` AS `given_std_l`,
  CASE
    WHEN (
      l.given_key = r.family_key
      AND l.family_key = r.given_key
      AND l.given_key <> l.family_key
    )
    THEN r.`family_std`
    ELSE r.`given_std`
  END AS `given_std_r`,
  l.`given_key` AS `given_key_l`,
  CASE
    WHEN (
      l.given_key = r.family_key
      AND l.family_key = r.given_key
      AND l.given_key <> l.family_key
    )
    THEN r.`family_key`
    ELSE r.`given_key`
  END AS `given_key_r`,
  l.`given_dm1` AS `given_dm1_l`,
  CASE
    WHEN (
      l.given_key = r.family_key
      AND l.family_key = r.given_key
      AND l.given_key <> l.family_key
    )
    THEN r.`family_dm1`
    ELSE r.`given_dm1`
  END AS `given_dm1_r`,
  l.`family_std` AS `family_std_l`,
  CASE
    WHEN (
      l.given_key = r.family_key
      AND l.family_key = r.given_key
      AND l.given_key <> l.family_key
    )
    THEN r.`given_std`
    ELSE r.`family_std`
  END AS `family_std_r`,
  l.`family_key` AS `family_key_l`,
  CASE
    WHEN (
      l.given_key = r.family_key
      AND l.family_key = r.given_key
      AND l.given_key <> l.family_key
    )
    THEN r.`given_key`
    ELSE r.`family_key`
  END AS `family_key_r`,
  l.`family_dm1` AS `family_dm1_l`,
  CASE
    WHEN (
      l.given_key = r.family_key
      AND l.family_key = r.given_key
      AND l.given_key <> l.family_key
    )
    THEN r.`given_dm1`
    ELSE r.`family_dm1`
  END AS `family_dm1_r`,
  l.`dob` AS `dob_l`,
  r.`dob` AS `dob_r`,
  l.`dob_y` AS `dob_y_l`,
  r.`dob_y` AS `dob_y_r`,
  l.`dob_m` AS `dob_m_l`,
  r.`dob_m` AS `dob_m_r`,
  l.`dob_d` AS `dob_d_l`,
  r.`dob_d` AS `dob_d_r`,
  l.`ssn` AS `ssn_l`,
  r.`ssn` AS `ssn_r`,
  l.`ssn_last4` AS `ssn_last4_l`,
  r.`ssn_last4` AS `ssn_last4_r`,
  l.`a_number` AS `a_number_l`,
  r.`a_number` AS `a_number_r`,
  l.`passport` AS `passport_l`,
  r.`passport` AS `passport_r`,
  l.`itin` AS `itin_l`,
  r.`itin` AS `itin_r`,
  l.`postcode` AS `postcode_l`,
  r.`postcode` AS `postcode_r`,
  l.`street_number` AS `street_number_l`,
  r.`street_number` AS `street_number_r`,
  l.`street_name` AS `street_name_l`,
  r.`street_name` AS `street_name_r`,
  l.`city_std` AS `city_std_l`,
  r.`city_std` AS `city_std_r`,
  l.`region` AS `region_l`,
  r.`region` AS `region_r`,
  l.`sex` AS `sex_l`,
  r.`sex` AS `sex_r`,
  l.`other_id` AS `other_id_l`,
  r.`other_id` AS `other_id_r`,
  l.`other_id_ns` AS `other_id_ns_l`,
  r.`other_id_ns` AS `other_id_ns_r`
FROM pairs AS p
JOIN resolve_features AS l
  ON l.rid = p.rid_l
JOIN resolve_features AS r
  ON r.rid = p.rid_r
