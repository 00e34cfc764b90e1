SELECT
  rid_l,
  rid_r,
  MIN(rule) AS rule,
  BIT_OR(SHIFTLEFT(CAST(1 AS BIGINT), rule)) AS rules
FROM (
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    0 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `ssn` IS NULL
      AND NOT (
        `ssn`
      ) IN (
        SELECT
          (
            `ssn`
          )
        FROM (
          SELECT
            `ssn`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `ssn` IS NULL
          GROUP BY
            `ssn`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `ssn` IS NULL
      AND NOT (
        `ssn`
      ) IN (
        SELECT
          (
            `ssn`
          )
        FROM (
          SELECT
            `ssn`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `ssn` IS NULL
          GROUP BY
            `ssn`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`ssn` = r.`ssn` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    1 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `a_number` IS NULL
      AND NOT (
        `a_number`
      ) IN (
        SELECT
          (
            `a_number`
          )
        FROM (
          SELECT
            `a_number`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `a_number` IS NULL
          GROUP BY
            `a_number`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `a_number` IS NULL
      AND NOT (
        `a_number`
      ) IN (
        SELECT
          (
            `a_number`
          )
        FROM (
          SELECT
            `a_number`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `a_number` IS NULL
          GROUP BY
            `a_number`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`a_number` = r.`a_number` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    2 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `passport` IS NULL
      AND NOT (
        `passport`
      ) IN (
        SELECT
          (
            `passport`
          )
        FROM (
          SELECT
            `passport`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `passport` IS NULL
          GROUP BY
            `passport`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `passport` IS NULL
      AND NOT (
        `passport`
      ) IN (
        SELECT
          (
            `passport`
          )
        FROM (
          SELECT
            `passport`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `passport` IS NULL
          GROUP BY
            `passport`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`passport` = r.`passport` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    3 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `itin` IS NULL
      AND NOT (
        `itin`
      ) IN (
        SELECT
          (
            `itin`
          )
        FROM (
          SELECT
            `itin`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `itin` IS NULL
          GROUP BY
            `itin`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `itin` IS NULL
      AND NOT (
        `itin`
      ) IN (
        SELECT
          (
            `itin`
          )
        FROM (
          SELECT
            `itin`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `itin` IS NULL
          GROUP BY
            `itin`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`itin` = r.`itin` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    4 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `other_id` IS NULL
      AND NOT (
        `other_id`
      ) IN (
        SELECT
          (
            `other_id`
          )
        FROM (
          SELECT
            `other_id`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `other_id` IS NULL
          GROUP BY
            `other_id`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `other_id` IS NULL
      AND NOT (
        `other_id`
      ) IN (
        SELECT
          (
            `other_id`
          )
        FROM (
          SELECT
            `other_id`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `other_id` IS NULL
          GROUP BY
            `other_id`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`other_id` = r.`other_id` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    5 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_key` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`family_key`, `dob`) IN (
        SELECT
          (`family_key`, `dob`)
        FROM (
          SELECT
            `family_key`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_key` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `family_key`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_key` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`family_key`, `dob`) IN (
        SELECT
          (`family_key`, `dob`)
        FROM (
          SELECT
            `family_key`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_key` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `family_key`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`family_key` = r.`family_key` AND l.`dob` = r.`dob` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    6 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `given_key` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`given_key`, `dob`) IN (
        SELECT
          (`given_key`, `dob`)
        FROM (
          SELECT
            `given_key`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `given_key` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `given_key`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `given_key` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`given_key`, `dob`) IN (
        SELECT
          (`given_key`, `dob`)
        FROM (
          SELECT
            `given_key`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `given_key` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `given_key`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`given_key` = r.`given_key` AND l.`dob` = r.`dob` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    7 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_dm1` IS NULL
      AND NOT `given_dm1` IS NULL
      AND NOT `dob_y` IS NULL
      AND NOT (`family_dm1`, `given_dm1`, `dob_y`) IN (
        SELECT
          (`family_dm1`, `given_dm1`, `dob_y`)
        FROM (
          SELECT
            `family_dm1`,
            `given_dm1`,
            `dob_y`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_dm1` IS NULL AND NOT `given_dm1` IS NULL AND NOT `dob_y` IS NULL
          GROUP BY
            `family_dm1`,
            `given_dm1`,
            `dob_y`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_dm1` IS NULL
      AND NOT `given_dm1` IS NULL
      AND NOT `dob_y` IS NULL
      AND NOT (`family_dm1`, `given_dm1`, `dob_y`) IN (
        SELECT
          (`family_dm1`, `given_dm1`, `dob_y`)
        FROM (
          SELECT
            `family_dm1`,
            `given_dm1`,
            `dob_y`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_dm1` IS NULL AND NOT `given_dm1` IS NULL AND NOT `dob_y` IS NULL
          GROUP BY
            `family_dm1`,
            `given_dm1`,
            `dob_y`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`family_dm1` = r.`family_dm1`
    AND l.`given_dm1` = r.`given_dm1`
    AND l.`dob_y` = r.`dob_y`
    AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    8 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_key` IS NULL
      AND NOT `postcode` IS NULL
      AND NOT (`family_key`, `postcode`) IN (
        SELECT
          (`family_key`, `postcode`)
        FROM (
          SELECT
            `family_key`,
            `postcode`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_key` IS NULL AND NOT `postcode` IS NULL
          GROUP BY
            `family_key`,
            `postcode`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_key` IS NULL
      AND NOT `postcode` IS NULL
      AND NOT (`family_key`, `postcode`) IN (
        SELECT
          (`family_key`, `postcode`)
        FROM (
          SELECT
            `family_key`,
            `postcode`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_key` IS NULL AND NOT `postcode` IS NULL
          GROUP BY
            `family_key`,
            `postcode`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`family_key` = r.`family_key` AND l.`postcode` = r.`postcode` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    9 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `ssn_last4` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`ssn_last4`, `dob`) IN (
        SELECT
          (`ssn_last4`, `dob`)
        FROM (
          SELECT
            `ssn_last4`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `ssn_last4` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `ssn_last4`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `ssn_last4` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`ssn_last4`, `dob`) IN (
        SELECT
          (`ssn_last4`, `dob`)
        FROM (
          SELECT
            `ssn_last4`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `ssn_last4` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `ssn_last4`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`ssn_last4` = r.`ssn_last4` AND l.`dob` = r.`dob` AND l.rid < r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    10 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_key` IS NULL
      AND NOT `ssn_last4` IS NULL
      AND NOT (`family_key`, `ssn_last4`) IN (
        SELECT
          (`family_key`, `ssn_last4`)
        FROM (
          SELECT
            `family_key`,
            `ssn_last4`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_key` IS NULL AND NOT `ssn_last4` IS NULL
          GROUP BY
            `family_key`,
            `ssn_last4`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_key` IS NULL
      AND NOT `ssn_last4` IS NULL
      AND NOT (`family_key`, `ssn_last4`) IN (
        SELECT
          (`family_key`, `ssn_last4`)
        FROM (
          SELECT
            `family_key`,
            `ssn_last4`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_key` IS NULL AND NOT `ssn_last4` IS NULL
          GROUP BY
            `family_key`,
            `ssn_last4`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`family_key` = r.`family_key`
    AND l.`ssn_last4` = r.`ssn_last4`
    AND l.rid < r.rid
  UNION ALL
  SELECT
    LEAST(l.rid, r.rid) AS rid_l,
    GREATEST(l.rid, r.rid) AS rid_r,
    11 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `given_key` IS NULL
      AND NOT `family_key` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`given_key`, `family_key`, `dob`) IN (
        SELECT
          (`given_key`, `family_key`, `dob`)
        FROM (
          SELECT
            `given_key`,
            `family_key`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `given_key` IS NULL AND NOT `family_key` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `given_key`,
            `family_key`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_key` IS NULL
      AND NOT `given_key` IS NULL
      AND NOT `dob` IS NULL
      AND NOT (`family_key`, `given_key`, `dob`) IN (
        SELECT
          (`family_key`, `given_key`, `dob`)
        FROM (
          SELECT
            `family_key`,
            `given_key`,
            `dob`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_key` IS NULL AND NOT `given_key` IS NULL AND NOT `dob` IS NULL
          GROUP BY
            `family_key`,
            `given_key`,
            `dob`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`given_key` = r.`family_key`
    AND l.`family_key` = r.`given_key`
    AND l.`dob` = r.`dob`
    AND l.rid <> r.rid
  UNION ALL
  SELECT
    l.rid AS rid_l,
    r.rid AS rid_r,
    12 AS rule
  FROM (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_dm1` IS NULL
      AND NOT `given_dm1` IS NULL
      AND NOT `dob_m` IS NULL
      AND NOT `dob_d` IS NULL
      AND NOT (`family_dm1`, `given_dm1`, `dob_m`, `dob_d`) IN (
        SELECT
          (`family_dm1`, `given_dm1`, `dob_m`, `dob_d`)
        FROM (
          SELECT
            `family_dm1`,
            `given_dm1`,
            `dob_m`,
            `dob_d`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_dm1` IS NULL
            AND NOT `given_dm1` IS NULL
            AND NOT `dob_m` IS NULL
            AND NOT `dob_d` IS NULL
          GROUP BY
            `family_dm1`,
            `given_dm1`,
            `dob_m`,
            `dob_d`
        )
        WHERE
          n > 500
      )
  ) AS l
  JOIN (
    SELECT
      *
    FROM resolve_features
    WHERE
      NOT `family_dm1` IS NULL
      AND NOT `given_dm1` IS NULL
      AND NOT `dob_m` IS NULL
      AND NOT `dob_d` IS NULL
      AND NOT (`family_dm1`, `given_dm1`, `dob_m`, `dob_d`) IN (
        SELECT
          (`family_dm1`, `given_dm1`, `dob_m`, `dob_d`)
        FROM (
          SELECT
            `family_dm1`,
            `given_dm1`,
            `dob_m`,
            `dob_d`,
            COUNT(*) AS n
          FROM resolve_features
          WHERE
            NOT `family_dm1` IS NULL
            AND NOT `given_dm1` IS NULL
            AND NOT `dob_m` IS NULL
            AND NOT `dob_d` IS NULL
          GROUP BY
            `family_dm1`,
            `given_dm1`,
            `dob_m`,
            `dob_d`
        )
        WHERE
          n > 500
      )
  ) AS r
    ON l.`family_dm1` = r.`family_dm1`
    AND l.`given_dm1` = r.`given_dm1`
    AND l.`dob_m` = r.`dob_m`
    AND l.`dob_d` = r.`dob_d`
    AND l.rid < r.rid
)
GROUP BY
  rid_l,
  rid_r
