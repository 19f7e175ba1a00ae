//! What a resource type declares about itself: its properties (type, required,
//! replace-forcing, sensitive, default) and the attributes it exports for references,
//! and the canonical form of a value of a kind (`canonical`), by which the differ and the
//! lifecycle both compare values. Pure data: config validation and the differ read it;
//! providers implement the CRUD.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropKind {
    Str,
    Int,
    Bool,
    /// An IPv4 CIDR block such as `10.0.0.0/16`.
    Cidr,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// An ordered list.
    List(&'static PropKind),
    /// An unordered collection: compared without regard to order or duplicates.
    Set(&'static PropKind),
    /// A map from free-form string keys to values of one kind.
    Map(&'static PropKind),
    /// A nested block with its own named fields.
    Object(&'static [Prop]),
    /// A JSON document (IAM policies), written as YAML or as a JSON string.
    Json,
}

impl PropKind {
    pub fn describe(&self) -> String {
        match self {
            PropKind::Str => "a string".into(),
            PropKind::Int => "an integer".into(),
            PropKind::Bool => "a boolean".into(),
            PropKind::Cidr => "an IPv4 CIDR block".into(),
            PropKind::Enum(v) => {
                format!("one of {}", v.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))
            }
            PropKind::List(k) | PropKind::Set(k) => {
                format!("a list of {}", strip_article(&k.describe()))
            }
            PropKind::Map(k) => format!("a map of {}", strip_article(&k.describe())),
            PropKind::Object(_) => "a map".into(),
            PropKind::Json => "a JSON document (a map or a JSON string)".into(),
        }
    }
}

fn strip_article(s: &str) -> String {
    let s = s.strip_prefix("an ").or_else(|| s.strip_prefix("a ")).unwrap_or(s);
    if s.ends_with('s') || s.starts_with("one of") {
        s.to_string()
    } else {
        format!("{s}s")
    }
}

/// How a change to a property is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Updated on the live resource.
    InPlace,
    /// AWS cannot change it: the resource is replaced (`-/+`).
    Replace,
    /// A number AWS can raise in place but never lower (a Kafka topic's partitions): a
    /// lower value replaces the resource.
    Grow,
}

impl Update {
    /// Does changing `from` to `to` replace the resource? Unknown or non-numeric values
    /// of a [`Update::Grow`] property count as growing: the plan shows an update, and the
    /// value is checked again when it is known.
    pub fn replaces(self, from: Option<&Value>, to: &Value) -> bool {
        match self {
            Update::InPlace => false,
            Update::Replace => true,
            Update::Grow => matches!(
                (from.and_then(Value::as_i64), to.as_i64()),
                (Some(from), Some(to)) if to < from
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prop {
    pub name: &'static str,
    pub kind: PropKind,
    pub required: bool,
    pub update: Update,
    /// Never shown in plans or logs; state keeps only a hash.
    pub sensitive: bool,
    /// JSON text of the value used when the stack leaves the property out.
    pub default: Option<&'static str>,
    /// Sent to the cloud but never reported back (a local file path): a read cannot
    /// compare it. Sensitive properties are write-only too.
    pub write_only: bool,
    /// For integers: the smallest and largest value AWS accepts. Without one, an integer
    /// must still fit AWS's 32-bit integers. For strings: the shortest and longest length.
    pub range: Option<(i64, i64)>,
}

impl Prop {
    pub const fn new(name: &'static str, kind: PropKind) -> Prop {
        Prop {
            name,
            kind,
            required: false,
            update: Update::InPlace,
            sensitive: false,
            default: None,
            write_only: false,
            range: None,
        }
    }
    pub const fn required(mut self) -> Prop {
        self.required = true;
        self
    }
    pub const fn replace(mut self) -> Prop {
        self.update = Update::Replace;
        self
    }
    /// Raised in place, replaced when lowered (see [`Update::Grow`]).
    pub const fn grow_only(mut self) -> Prop {
        self.update = Update::Grow;
        self
    }
    pub const fn sensitive(mut self) -> Prop {
        self.sensitive = true;
        self
    }
    /// An integer from `min` to `max`, both included.
    pub const fn range(mut self, min: i64, max: i64) -> Prop {
        self.range = Some((min, max));
        self
    }

    /// A string of `min` to `max` characters (AWS's limits on names).
    pub const fn length(mut self, min: i64, max: i64) -> Prop {
        self.range = Some((min, max));
        self
    }

    /// Why string `s` is too short or too long for this property, if it is.
    pub fn length_problem(&self, s: &str) -> Option<String> {
        let (min, max) = self.range?;
        let n = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
        (!(min..=max).contains(&n))
            .then(|| format!("`{}` must be {min} to {max} characters long; this is {n}", self.name))
    }

    /// The values an integer property accepts.
    pub fn int_range(&self) -> (i64, i64) {
        self.range.unwrap_or((i64::from(i32::MIN), i64::from(i32::MAX)))
    }

    pub const fn write_only(mut self) -> Prop {
        self.write_only = true;
        self
    }
    pub const fn default(mut self, json: &'static str) -> Prop {
        self.default = Some(json);
        self
    }

    /// Why `v` is not a value this property accepts (kind, integer range, enum members,
    /// fields of a block), or `Ok` if it is. Placeholders for values known only after
    /// apply are accepted. Used on values that did not come through the stack's parser
    /// (saved plans), and by the tests that every value reaches AWS unchanged.
    pub fn check_json(&self, v: &Value) -> Result<(), String> {
        if let (PropKind::Str, Value::String(s)) = (&self.kind, v) {
            if let Some(why) = self.length_problem(s) {
                return Err(why);
            }
        }
        check_kind(&self.kind, self.int_range(), v).map_err(|why| format!("`{}`: {why}", self.name))
    }

    pub fn default_value(&self) -> Option<Value> {
        self.default.map(|d| serde_json::from_str(d).unwrap_or(Value::String(d.to_string())))
    }
}

/// Is `n` an integer from `min` to `max`? (A float or a number past `i64` never is.)
pub fn in_range(n: &serde_json::Number, (min, max): (i64, i64)) -> bool {
    n.as_i64().is_some_and(|i| (min..=max).contains(&i))
}

fn check_kind(kind: &PropKind, (min, max): (i64, i64), v: &Value) -> Result<(), String> {
    // (String lengths are checked by `Prop::check_json` itself.)
    let any = (i64::from(i32::MIN), i64::from(i32::MAX));
    match (kind, v) {
        (_, Value::Null) => Ok(()),
        (_, Value::String(s)) if s.contains(crate::unknown::UNKNOWN) => Ok(()),
        (PropKind::Int, Value::Number(n)) if in_range(n, (min, max)) => Ok(()),
        (PropKind::Int, Value::Number(n)) => Err(format!("{n} is outside {min} to {max}")),
        (PropKind::Str, Value::String(_)) | (PropKind::Bool, Value::Bool(_)) | (PropKind::Json, _) => Ok(()),
        (PropKind::Cidr, Value::String(c)) => crate::cidr::check_cidr(c),
        (PropKind::Enum(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        (PropKind::List(inner) | PropKind::Set(inner), Value::Array(items)) => {
            items.iter().try_for_each(|i| check_kind(inner, any, i))
        }
        (PropKind::Map(inner), Value::Object(m)) => m.values().try_for_each(|i| check_kind(inner, any, i)),
        (PropKind::Object(fields), Value::Object(m)) => {
            m.iter().try_for_each(|(k, v)| match fields.iter().find(|f| f.name == k) {
                Some(f) => f.check_json(v),
                None => Err(format!("`{k}` is not a field of this block")),
            })
        }
        _ => Err(format!("expected {}, found `{v}`", kind.describe())),
    }
}

/// The `tags` property every taggable type has.
pub const TAGS: Prop = Prop::new("tags", PropKind::Map(&PropKind::Str));

/// How a resource is told apart from every other: what the lifecycle looks up before a
/// create, so it neither makes a second one nor takes over somebody else's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// The cloud makes up its ID (VPC, subnet, KMS key): an earlier attempt is found by
    /// its ownership tags.
    Generated,
    /// The stack names it, and that name is its ID (bucket, log group, role, …).
    Name(&'static str),
    /// The stack names it by these properties (several for a composite name such as a Glue
    /// table's database and name), and the cloud's ID is derived from them or assigned
    /// (an ARN, a queue URL): the provider looks it up.
    Named(&'static [&'static str]),
    /// No ID in AWS: cloudbridge's own encoding of these properties (every one its ID is
    /// built from) names it, as the RDS and Redshift Data API's SQL objects. Found by them
    /// before a create, and never imported: an ID written by hand would choose the
    /// cluster, the credential and, for a statement, the SQL a plan's read runs.
    Encoded(&'static [&'static str]),
}

impl TypeSchema {
    /// Why `import` cannot take this type, if it cannot: its ID is cloudbridge's own
    /// encoding of its properties ([`Identity::Encoded`]), so a hand-written ID would pick
    /// what a plan's read connects to and runs.
    pub fn not_importable(&self) -> Option<&'static str> {
        matches!(self.identity, Identity::Encoded(_)).then_some(
            "has no ID in AWS to import: its ID is cloudbridge's encoding of its properties, and one written by hand would choose the cluster, the credential and the SQL a plan's read runs",
        )
    }
}

impl Identity {
    /// The properties that name the resource (none for generated IDs).
    pub fn props(&self) -> &[&'static str] {
        match self {
            Identity::Generated => &[],
            Identity::Name(p) => std::slice::from_ref(p),
            Identity::Named(ps) | Identity::Encoded(ps) => ps,
        }
    }
}

#[derive(Debug)]
pub struct TypeSchema {
    /// `aws.<service>.<kind>`
    pub name: &'static str,
    pub doc: &'static str,
    pub props: &'static [Prop],
    /// Attributes known only once the resource exists (`id`, `arn`, …). Properties can be
    /// referenced too.
    pub attrs: &'static [&'static str],
    /// The attributes an in-place update changes (a configuration's new revision, a
    /// cluster's version, a task definition's new ARN): unknown in a plan that updates
    /// the resource, so what references them is planned with the new value, not the old.
    pub changes_on_update: &'static [&'static str],
    /// What replacing it does to change data capture, for the types that hold a CDC
    /// position (a DMS task, a Debezium connector): a plan that replaces one is refused
    /// unless the user allows it (`--allow-resnapshot`, or `allow_resnapshot: true`).
    pub restarts_cdc: Option<&'static str>,
    /// Receives the default tags and cloudbridge's ownership tags.
    pub taggable: bool,
    /// What names it, and so what is looked up before it is created.
    pub identity: Identity,
    /// How its ARN is built where AWS does not return one, with `{partition}`, `{region}`,
    /// `{account}` and `{id}` filled in (the account is the caller's, asked of STS once).
    pub arn: Option<&'static str>,
    /// Puts a property value into canonical form before comparison, for properties whose
    /// cloud representation differs from how they are written (e.g. merged rule sets).
    pub normalize: Option<fn(&str, &serde_json::Value) -> serde_json::Value>,
    /// How long create, update and delete may take before cloudbridge gives up waiting.
    pub timeouts: Timeouts,
    /// Holds data (databases, clusters, buckets, streams, secrets, keys): replacing or
    /// deleting it loses that data, and plans say so loudly.
    pub stateful: bool,
    /// Rules across properties, or that AWS applies beyond a property's kind and range
    /// (`from_port` ≤ `to_port`, bucket names, VPC prefix lengths). Given the properties
    /// whose values are known: at validate the literal ones, at apply all of them, before
    /// the call. Pure.
    pub check: Option<fn(&Known) -> Vec<Finding>>,
}

/// Property values known at the time of a [`TypeSchema::check`]; a property that is set
/// to a value not known yet (a reference to what apply creates) is `null`.
pub type Known = serde_json::Map<String, serde_json::Value>;

/// A rule a value breaks: the property it is about (where it is reported), what is wrong,
/// and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub prop: &'static str,
    pub message: String,
    pub hint: String,
}

impl Finding {
    pub fn new(prop: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Finding {
        Finding { prop, message: message.into(), hint: hint.into() }
    }
}

impl TypeSchema {
    /// The findings of this type's rules on `known`, and of the rules every tag obeys.
    pub fn findings(&self, known: &Known) -> Vec<Finding> {
        let mut out = self.check.map(|c| c(known)).unwrap_or_default();
        if let Some(serde_json::Value::Object(tags)) = known.get("tags") {
            for (k, v) in tags {
                if let Some(why) = tag_problem(k, v.as_str().unwrap_or_default()) {
                    out.push(Finding::new("tags", why, TAG_HINT));
                }
            }
        }
        out
    }
}

pub const TAG_HINT: &str =
    "tag keys are 1 to 128 characters and do not start with `aws:`; values are at most 256 characters";

/// What AWS would refuse in a tag (the same limits for every service).
pub fn tag_problem(key: &str, value: &str) -> Option<String> {
    if key.is_empty() || key.chars().count() > 128 {
        Some(format!("tag key `{key}` must be 1 to 128 characters long"))
    } else if key.to_ascii_lowercase().starts_with("aws:") {
        Some(format!("tag key `{key}` starts with `aws:`, which AWS reserves for its own tags"))
    } else if value.chars().count() > 256 {
        Some(format!("the value of tag `{key}` is {} characters long; AWS allows 256", value.chars().count()))
    } else {
        None
    }
}

/// Time limits of the three operations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timeouts {
    pub create: u64,
    pub update: u64,
    pub delete: u64,
}

impl Timeouts {
    pub const fn minutes(create: u64, update: u64, delete: u64) -> Timeouts {
        Timeouts { create: create * 60, update: update * 60, delete: delete * 60 }
    }
}

/// Resources that are ready as soon as the API call returns.
pub const QUICK: Timeouts = Timeouts::minutes(10, 10, 10);

/// Parse `90m`, `1h30m`, `45s`, `2h` into seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let mut total = 0u64;
    let mut num = String::new();
    let mut any = false;
    let too_long = || format!("`{s}` is longer than the longest timeout, {}h", MAX_TIMEOUT_SECS / 3600);
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(format!("`{s}` is not a duration: unknown unit `{c}`")),
        };
        // Checked: a 16-digit number of hours must be an error, not an overflow.
        let n: u64 = match num.parse() {
            Ok(n) => n,
            Err(_) if !num.is_empty() => return Err(too_long()),
            Err(_) => return Err(format!("`{s}` is not a duration")),
        };
        num.clear();
        total = n.checked_mul(unit).and_then(|n| total.checked_add(n)).ok_or_else(too_long)?;
        any = true;
    }
    if !num.is_empty() || !any || total == 0 {
        return Err(format!("`{s}` is not a duration"));
    }
    if total > MAX_TIMEOUT_SECS {
        return Err(too_long());
    }
    Ok(total)
}

/// The longest timeout accepted: no AWS operation cloudbridge waits for takes longer, and
/// a deadline must stay a time the clock can represent.
pub const MAX_TIMEOUT_SECS: u64 = 72 * 3600;

impl TypeSchema {
    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// Every resource has an `id` (its cloud identifier), besides its declared attributes
    /// and non-sensitive properties.
    /// Is property `k` secret: declared sensitive by the type, or listed in `derived`
    /// (set from a sensitive variable or property)?
    pub fn secret(&self, k: &str, derived: &[String]) -> bool {
        self.prop(k).is_some_and(|p| p.sensitive) || derived.iter().any(|d| d == k)
    }

    pub fn has_attr(&self, name: &str) -> bool {
        name == "id" || self.attrs.contains(&name) || self.prop(name).is_some_and(|p| !p.sensitive)
    }
}

/// The resource types a provider offers, as a value: the composition root (`commands`)
/// hands the provider's catalog to config, plan and engine, which never import a provider.
#[derive(Debug, Clone, Copy)]
pub struct Catalog {
    types: &'static [&'static TypeSchema],
}

impl Catalog {
    /// `types` sorted by name.
    pub const fn new(types: &'static [&'static TypeSchema]) -> Catalog {
        Catalog { types }
    }

    /// Every type, sorted by name.
    pub fn types(&self) -> &'static [&'static TypeSchema] {
        self.types
    }

    pub fn lookup(&self, name: &str) -> Option<&'static TypeSchema> {
        self.types.iter().copied().find(|t| t.name == name)
    }
}

/// Canonical form of a value of `kind`, so equal things compare equal.
pub fn canonical(ty: &TypeSchema, prop: &str, kind: &PropKind, v: &Value) -> Value {
    let v = match ty.normalize {
        Some(f) => f(prop, v),
        None => v.clone(),
    };
    canon(kind, &v)
}

fn canon(kind: &PropKind, v: &Value) -> Value {
    match (kind, v) {
        (PropKind::Set(inner), Value::Array(items)) => {
            let mut c: Vec<Value> = items.iter().map(|i| canon(inner, i)).collect();
            c.sort_by_key(|x| x.to_string());
            c.dedup();
            Value::Array(c)
        }
        (PropKind::List(inner), Value::Array(items)) => Value::Array(items.iter().map(|i| canon(inner, i)).collect()),
        (PropKind::Map(inner), Value::Object(m)) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), canon(inner, x))).collect())
        }
        (PropKind::Object(fields), Value::Object(m)) => Value::Object(
            m.iter()
                .filter(|(_, x)| !(x.is_null() || x.as_array().is_some_and(Vec::is_empty) || x.as_str() == Some("")))
                .map(|(k, x)| match fields.iter().find(|f| f.name == k) {
                    Some(f) => (k.clone(), canon(&f.kind, x)),
                    None => (k.clone(), x.clone()),
                })
                .collect(),
        ),
        (PropKind::Json, Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        // `5.0` is the integer 5; a number with a fraction, or beyond what a float holds
        // exactly (2^53), stays as it is, so the difference shows.
        (PropKind::Int, Value::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => Value::from(f as i64),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("45s"), Ok(45));
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(parse_duration("72h"), Ok(72 * 3600));
        assert_eq!(parse_duration("73h").unwrap_err(), "`73h` is longer than the longest timeout, 72h");
        for huge in ["9999999999999999h", "99999999999999999999999m", "5124095576030431h"] {
            assert!(parse_duration(huge).unwrap_err().contains("longer than the longest timeout"), "{huge}");
        }
    }

    #[test]
    fn canonical_forms_compare_what_aws_treats_as_equal() {
        const STR: PropKind = PropKind::Str;
        const INT: PropKind = PropKind::Int;
        const FIELDS: &[Prop] = &[Prop::new("port", PropKind::Int)];
        assert_eq!(canon(&PropKind::Set(&STR), &json!(["b", "a", "b"])), json!(["a", "b"]));
        assert_eq!(canon(&PropKind::List(&STR), &json!(["b", "a"])), json!(["b", "a"]));
        assert_eq!(canon(&PropKind::Map(&INT), &json!({"k": 5.0})), json!({"k": 5}));
        assert_eq!(canon(&PropKind::Json, &json!("{\"a\": [1]}")), json!({"a": [1]}));
        assert_eq!(canon(&PropKind::Json, &json!("not json")), json!("not json"));
        assert_eq!(
            canon(&PropKind::Object(FIELDS), &json!({"port": 80.0, "empty": "", "none": [], "null": null, "x": 1.5})),
            json!({"port": 80, "x": 1.5})
        );
        // An integer property never truncates or saturates: 1.5 is not 1, 1e300 not i64::MAX,
        // and an integer beyond 2^53 keeps every digit.
        assert_eq!(canon(&INT, &json!(1.5)), json!(1.5));
        assert_eq!(canon(&INT, &json!(1e300)), json!(1e300));
        assert_eq!(canon(&INT, &json!(9_007_199_254_740_993_i64)), json!(9_007_199_254_740_993_i64));
    }
}
