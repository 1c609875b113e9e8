//! Continuous-integration detection from the environment.

use super::{Environment, Switch};

/// Variables that CI services set; any of them, set to something other than empty, `0` or
/// `false` (read like every switch, see [`Switch`]), means the program runs in CI.
pub const CI_VARIABLES: &[&str] = &[
    "CI",
    "CONTINUOUS_INTEGRATION",
    "BUILD_NUMBER",
    "RUN_ID",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "JENKINS_URL",
    "TF_BUILD",
    "TEAMCITY_VERSION",
    "CODEBUILD_BUILD_ID",
    "BITBUCKET_BUILD_NUMBER",
    "APPVEYOR",
    "DRONE",
    "SEMAPHORE",
    "BITRISE_IO",
    "BUDDY",
    "NETLIFY",
    "VERCEL",
    "CF_PAGES",
    "HEROKU_TEST_RUN_ID",
    "WOODPECKER",
    "CIRRUS_CI",
];

/// The variable that gave CI away, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiSignal {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
}

/// The first CI variable set in `env`, if any.
pub fn detect(env: &Environment) -> Option<CiSignal> {
    CI_VARIABLES.iter().find_map(|&variable| {
        let value = env.get(variable)?;
        Switch::read(Some(value)).opts_out().then(|| CiSignal {
            variable,
            value: value.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_services() {
        assert_eq!(detect(&Environment::empty()), None);
        assert_eq!(detect(&Environment::empty().with("CI", "false")), None);
        assert_eq!(detect(&Environment::empty().with("CI", "")), None);
        let signal = detect(&Environment::empty().with("CI", "true")).unwrap();
        assert_eq!(signal.variable, "CI");
        for var in [
            "GITHUB_ACTIONS",
            "GITLAB_CI",
            "JENKINS_URL",
            "TF_BUILD",
            "BUILDKITE",
        ] {
            assert!(
                detect(&Environment::empty().with(var, "x")).is_some(),
                "{var}"
            );
        }
    }
}
