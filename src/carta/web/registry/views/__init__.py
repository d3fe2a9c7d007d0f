"""The registry's pages, one module per page group (ADR 0231): the patient list and patient
forms (:mod:`.patients`), the patient page (:mod:`.patient_page`), the daily assessment with
its live grade (:mod:`.assessments`), the other records and their audit history
(:mod:`.records`) and the center dashboard (:mod:`.dashboard`)."""
