# Regenerate the R reference outputs that tests/analytics/*.py compare carta with.
#
#   cd tests/analytics/r_fixtures && Rscript make_fixtures.R
#
# Needs R with the survival and cmprsk packages (Debian: r-base-core, r-cran-survival,
# r-cran-cmprsk). Inputs are R's own data sets (lung, veteran from survival) and small
# synthetic sets drawn here with fixed seeds; every input and output is a CSV written with
# 15 significant digits. The tests themselves never need R.
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
})
options(digits = 15)

put <- function(frame, name) {
  write.csv(frame, name, row.names = FALSE, na = "")
}

# ---- inputs -------------------------------------------------------------------------------
lung_data <- with(survival::lung, data.frame(
  inst = inst, time = time, status = status - 1L, age = age, sex = sex,
  ph_ecog = ph.ecog, ph_karno = ph.karno, wt_loss = wt.loss
))
put(lung_data, "lung.csv")

veteran_data <- with(survival::veteran, data.frame(
  time = time, status = status, trt = trt, celltype = as.character(celltype),
  karno = karno, diagtime = diagtime, age = age, prior = prior
))
put(veteran_data, "veteran.csv")

strip <- function(strata) sub("^[^=]*=", "", strata)

# ---- Kaplan-Meier, median, landmarks, RMST -------------------------------------------------
km_outputs <- function(data, group, prefix, landmarks, tau) {
  formula <- if (is.null(group)) Surv(time, status) ~ 1 else
    as.formula(paste("Surv(time, status) ~", group))
  fit <- survfit(formula, data = data, conf.type = "log-log")
  strata <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    strip(rep(names(fit$strata), fit$strata))
  put(data.frame(group = strata, time = fit$time, n_risk = fit$n.risk,
                 n_event = fit$n.event, n_censor = fit$n.censor, survival = fit$surv,
                 std_err = fit$std.err, lower = fit$lower, upper = fit$upper),
      paste0(prefix, "_curve.csv"))
  table <- summary(fit, rmean = tau)$table
  if (is.null(dim(table))) table <- t(as.matrix(table))
  groups <- if (is.null(fit$strata)) "all" else strip(rownames(table))
  put(data.frame(group = groups, n = table[, "records"], events = table[, "events"],
                 median = table[, "median"], median_lower = table[, "0.95LCL"],
                 median_upper = table[, "0.95UCL"], tau = tau, rmst = table[, "rmean"],
                 rmst_std_err = table[, "se(rmean)"]),
      paste0(prefix, "_summary.csv"))
  marks <- summary(fit, times = landmarks, extend = FALSE)
  mark_strata <- if (is.null(marks$strata)) rep("all", length(marks$time)) else
    strip(as.character(marks$strata))
  put(data.frame(group = mark_strata, time = marks$time, n_risk = marks$n.risk,
                 survival = marks$surv, std_err = marks$std.err, lower = marks$lower,
                 upper = marks$upper),
      paste0(prefix, "_landmarks.csv"))
}
km_outputs(lung_data, NULL, "km_lung", c(90, 182.625, 365.25, 730.5), 730)
km_outputs(lung_data, "sex", "km_lung_sex", c(90, 182.625, 365.25, 730.5), 700)
km_outputs(veteran_data, "celltype", "km_veteran_celltype", c(30, 90, 180), 200)

# ---- log-rank --------------------------------------------------------------------------------
log_rank_output <- function(formula, data, name) {
  test <- survdiff(formula, data = data)
  put(data.frame(group = strip(names(test$n)), n = as.vector(test$n), observed = test$obs,
                 expected = test$exp, chi2 = test$chisq,
                 df = sum(test$exp > 0) - 1, p = test$pvalue), name)
}
log_rank_output(Surv(time, status) ~ sex, lung_data, "logrank_lung_sex.csv")
log_rank_output(Surv(time, status) ~ celltype, veteran_data, "logrank_veteran_celltype.csv")
# ph_ecog: four groups, one of them a single patient (one row has no ph_ecog and is left out).
log_rank_output(Surv(time, status) ~ ph_ecog, lung_data[!is.na(lung_data$ph_ecog), ],
                "logrank_lung_ecog.csv")

# ---- competing risks -----------------------------------------------------------------------
# A synthetic set: three groups with different hazards of the event of interest (1), one
# competing hazard (2), uniform censoring, times rounded up to whole days (many ties).
set.seed(20240501)
n <- 300
arm <- sample(c("A", "B", "C"), n, replace = TRUE)
t1 <- rexp(n, ifelse(arm == "A", 0.05, ifelse(arm == "B", 0.08, 0.03)))
t2 <- rexp(n, 0.04)
censor <- runif(n, 5, 40)
exit <- pmin(t1, t2, censor)
status <- ifelse(exit == censor, 0L, ifelse(exit == t1, 1L, 2L))
competing_data <- data.frame(time = ceiling(exit), status = status, arm = arm)
put(competing_data, "competing.csv")

aj_output <- function(data, group, name) {
  formula <- if (is.null(group)) Surv(time, factor(status)) ~ 1 else
    as.formula(paste("Surv(time, factor(status)) ~", group))
  fit <- survfit(formula, data = data, conf.type = "log-log")
  strata <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    strip(rep(names(fit$strata), fit$strata))
  rows <- list()
  for (cause in 1:2) {
    rows[[cause]] <- data.frame(group = strata, cause = cause, time = fit$time,
                                n_risk = fit$n.risk[, 1], n_event = fit$n.event[, cause + 1],
                                incidence = fit$pstate[, cause + 1],
                                std_err = fit$std.err[, cause + 1],
                                lower = fit$lower[, cause + 1], upper = fit$upper[, cause + 1])
  }
  put(do.call(rbind, rows), name)
}
aj_output(competing_data, NULL, "aj_competing.csv")
aj_output(competing_data, "arm", "aj_competing_arm.csv")

gray_rows <- list()
for (rho in c(0, 1)) {
  test <- cuminc(competing_data$time, competing_data$status, competing_data$arm, rho = rho)$Tests
  gray_rows[[length(gray_rows) + 1]] <- data.frame(rho = rho, cause = as.integer(rownames(test)),
                                                   chi2 = test[, "stat"], df = test[, "df"],
                                                   p = test[, "pv"])
}
put(do.call(rbind, gray_rows), "gray_competing_arm.csv")

# ---- Cox models ------------------------------------------------------------------------------
cox_output <- function(fit, prefix) {
  s <- summary(fit)$coefficients
  se_column <- if ("robust se" %in% colnames(s)) "robust se" else "se(coef)"
  z <- qnorm(0.975)
  put(data.frame(term = rownames(s), coef = s[, "coef"], se = s[, se_column],
                 hr = exp(s[, "coef"]), hr_lower = exp(s[, "coef"] - z * s[, se_column]),
                 hr_upper = exp(s[, "coef"] + z * s[, se_column]), z = s[, "z"],
                 p = s[, "Pr(>|z|)"], loglik = fit$loglik[2], n = fit$n, events = fit$nevent),
      paste0(prefix, "_coefficients.csv"))
  zph <- cox.zph(fit, transform = "km")$table
  put(data.frame(term = rownames(zph), chi2 = zph[, "chisq"], df = zph[, "df"], p = zph[, "p"]),
      paste0(prefix, "_zph.csv"))
}
veteran_factor <- veteran_data
veteran_factor$celltype <- factor(veteran_factor$celltype)  # alphabetical levels, as carta
cox_output(coxph(Surv(time, status) ~ trt + karno + age + celltype, data = veteran_factor,
                 ties = "efron"), "cox_veteran")
# Missing covariates (ph_ecog, wt_loss) are left out, as carta does.
cox_output(coxph(Surv(time, status) ~ age + sex + ph_ecog + wt_loss, data = lung_data,
                 ties = "efron"), "cox_lung")
# Case weights with the robust (sandwich) variance, tied times.
set.seed(7)
veteran_weighted <- veteran_factor
veteran_weighted$w <- round(runif(nrow(veteran_weighted), 0.5, 3), 6)
put(veteran_weighted, "veteran_weighted.csv")
cox_output(coxph(Surv(time, status) ~ trt + karno + age, data = veteran_weighted,
                 weights = w, robust = TRUE, ties = "efron"), "cox_veteran_weighted")

# ---- logistic regression -------------------------------------------------------------------
logistic_output <- function(fit, name) {
  s <- summary(fit)$coefficients
  ci <- confint.default(fit)
  put(data.frame(term = rownames(s), coef = s[, "Estimate"], se = s[, "Std. Error"],
                 odds_ratio = exp(s[, "Estimate"]), odds_ratio_lower = exp(ci[, 1]),
                 odds_ratio_upper = exp(ci[, 2]), z = s[, "z value"], p = s[, "Pr(>|z|)"],
                 loglik = as.numeric(logLik(fit)), n = nobs(fit)), name)
}
# glm's default stopping rule (relative deviance change < 1e-8) leaves standard errors that
# are off in the 5th digit on the nearly separated veteran data; converge fully.
tight <- glm.control(epsilon = 1e-14, maxit = 100)
# Death on age, sex, ECOG and weight loss (rows with a missing covariate left out).
logistic_output(glm(status ~ age + sex + ph_ecog + wt_loss, family = binomial, data = lung_data,
                    control = tight), "logistic_lung.csv")
logistic_output(glm(status ~ karno + age + celltype, family = binomial, data = veteran_factor,
                    control = tight), "logistic_veteran.csv")

# ---- exact binomial intervals ----------------------------------------------------------------
binomial_rows <- list()
for (pair in list(c(0, 10), c(3, 10), c(10, 10), c(57, 123), c(1, 1), c(412, 1000))) {
  test <- binom.test(pair[1], pair[2])
  binomial_rows[[length(binomial_rows) + 1]] <- data.frame(
    successes = pair[1], n = pair[2], lower = test$conf.int[1], upper = test$conf.int[2])
}
put(do.call(rbind, binomial_rows), "clopper_pearson.csv")

# ---- protocol comparison by inverse-probability weighting ------------------------------------
# Two lymphodepletion doses; older patients and those with high-risk disease more often get
# the higher dose; the outcome depends on age, disease and (weakly) the dose.
set.seed(31)
n <- 400
age <- round(rnorm(n, 60, 10))
male <- rbinom(n, 1, 0.6)
disease <- sample(c("lbcl", "mcl", "fl"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
logit <- -3 + 0.05 * age + 0.3 * male + ifelse(disease == "mcl", 0.8, ifelse(disease == "fl", -0.5, 0))
high_dose <- rbinom(n, 1, plogis(logit))
hazard <- 0.002 * exp(0.03 * (age - 60) + ifelse(disease == "mcl", 0.5, 0) - 0.3 * high_dose)
event_time <- rexp(n, hazard)
censor_time <- runif(n, 200, 900)
protocol_data <- data.frame(
  ld_dose = ifelse(high_dose == 1, "flu30_cy500", "flu25_cy250"),
  age = age, sex = ifelse(male == 1, "male", "female"), disease = disease,
  time = ceiling(pmin(event_time, censor_time) / 7) * 7,  # weekly visits: many ties
  status = as.integer(event_time <= censor_time))
put(protocol_data, "protocol.csv")

protocol_data$treated <- as.integer(protocol_data$ld_dose == "flu30_cy500")
protocol_data$disease <- factor(protocol_data$disease)
propensity <- glm(treated ~ age + sex + disease, family = binomial, data = protocol_data,
                  control = tight)
logistic_output(propensity, "protocol_propensity.csv")
ps <- fitted(propensity)
protocol_data$w <- ifelse(protocol_data$treated == 1, 1 / ps, 1 / (1 - ps))
put(data.frame(row = seq_len(n), propensity = ps, weight = protocol_data$w), "protocol_weights.csv")

weighted_fit <- survfit(Surv(time, status) ~ ld_dose, data = protocol_data, weights = w,
                        conf.type = "log-log")
put(data.frame(group = strip(rep(names(weighted_fit$strata), weighted_fit$strata)),
               time = weighted_fit$time, n_risk = weighted_fit$n.risk,
               n_event = weighted_fit$n.event, survival = weighted_fit$surv,
               std_err_survival = weighted_fit$std.err, lower = weighted_fit$lower,
               upper = weighted_fit$upper),
    "protocol_weighted_km.csv")
cox_output(coxph(Surv(time, status) ~ treated, data = protocol_data, weights = w, robust = TRUE),
           "protocol_weighted_cox")
cox_output(coxph(Surv(time, status) ~ treated, data = protocol_data), "protocol_unadjusted_cox")

smd <- function(x, treated, w, binary) {
  moments <- function(x, w) {
    m <- sum(w * x) / sum(w)
    v <- if (binary) m * (1 - m) else sum(w) / (sum(w)^2 - sum(w^2)) * sum(w * (x - m)^2)
    c(m, v)
  }
  a <- moments(x[treated == 1], w[treated == 1])
  b <- moments(x[treated == 0], w[treated == 0])
  c(a[1], b[1], (a[1] - b[1]) / sqrt((a[2] + b[2]) / 2))
}
terms <- list(age = protocol_data$age, "sex=female" = as.numeric(protocol_data$sex == "female"),
              "sex=male" = as.numeric(protocol_data$sex == "male"),
              "disease=fl" = as.numeric(protocol_data$disease == "fl"),
              "disease=lbcl" = as.numeric(protocol_data$disease == "lbcl"),
              "disease=mcl" = as.numeric(protocol_data$disease == "mcl"))
balance_rows <- list()
for (term in names(terms)) {
  binary <- term != "age"
  before <- smd(terms[[term]], protocol_data$treated, rep(1, n), binary)
  after <- smd(terms[[term]], protocol_data$treated, protocol_data$w, binary)
  balance_rows[[term]] <- data.frame(term = term, mean_treated_before = before[1],
                                     mean_reference_before = before[2], smd_before = before[3],
                                     mean_treated_after = after[1],
                                     mean_reference_after = after[2], smd_after = after[3])
}
put(do.call(rbind, balance_rows), "protocol_balance.csv")

# ---- edge cases of the median and weighted curves ------------------------------------------------
# The curve is exactly 0.5 from day 2 to day 5: R's median is the midpoint (3.5).
half_data <- rbind(data.frame(time = c(1, 2, 3, 5), status = c(1, 1, 0, 1), arm = "x"),
                   data.frame(time = c(2, 4, 4, 7, 8, 9), status = c(1, 1, 0, 1, 0, 1), arm = "y"))
put(half_data, "half.csv")
km_outputs(half_data, "arm", "km_half", c(0.5, 2, 4.5, 10), 5)

# With robust = TRUE R's std.err is that of S itself (fit$logse is FALSE), else of -log S.
weighted_km <- function(robust, name) {
  fit <- survfit(Surv(time, status) ~ 1, data = veteran_weighted, weights = w,
                 conf.type = "log-log", robust = robust)
  put(data.frame(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
                 survival = fit$surv, std_err = fit$std.err, lower = fit$lower,
                 upper = fit$upper), name)
}
weighted_km(FALSE, "km_veteran_weighted_greenwood.csv")
weighted_km(TRUE, "km_veteran_weighted_robust.csv")

writeLines(c(paste("R", R.version$major, R.version$minor, sep = " "),
             paste("survival", packageVersion("survival")),
             paste("cmprsk", packageVersion("cmprsk"))), "VERSIONS.txt")
