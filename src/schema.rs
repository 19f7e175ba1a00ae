//! What a resource type declares about itself: its properties (type, required,
//! replace-forcing, sensitive, default) and the attributes it exports for references.
//! Pure data: config validation and the differ read it; providers implement the CRUD.

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
    /// must still fit AWS's 32-bit integers.
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
    pub const fn sensitive(mut self) -> Prop {
        self.sensitive = true;
        self
    }
    /// An integer from `min` to `max`, both included.
    pub const fn range(mut self, min: i64, max: i64) -> Prop {
        self.range = Some((min, max));
        self
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

    pub fn default_value(&self) -> Option<Value> {
        self.default.map(|d| serde_json::from_str(d).unwrap_or(Value::String(d.to_string())))
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
}

impl Identity {
    /// The properties that name the resource (none for generated IDs).
    pub fn props(&self) -> &[&'static str] {
        match self {
            Identity::Generated => &[],
            Identity::Name(p) => std::slice::from_ref(p),
            Identity::Named(ps) => ps,
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
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a duration"))?;
        num.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(format!("`{s}` is not a duration: unknown unit `{c}`")),
        };
        any = true;
    }
    if !num.is_empty() || !any || total == 0 {
        return Err(format!("`{s}` is not a duration"));
    }
    Ok(total)
}

impl TypeSchema {
    pub fn prop(&self, name: &str) -> Option<&'static Prop> {
        self.props.iter().find(|p| p.name == name)
    }

    /// Every resource has an `id` (its cloud identifier), besides its declared attributes
    /// and non-sensitive properties.
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

/// Parse `a.b.c.d/nn` strictly: four octets, prefix 0..=32, no host bits set.
pub fn check_cidr(s: &str) -> Result<(), String> {
    let (ip, prefix) = s.split_once('/').ok_or_else(|| format!("`{s}` has no `/prefix`"))?;
    let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| format!("`{ip}` is not an IPv4 address"))?;
    let prefix: u32 = prefix.parse().map_err(|_| format!("`/{prefix}` is not a prefix length"))?;
    if prefix > 32 {
        return Err(format!("prefix length /{prefix} is larger than 32"));
    }
    let bits = u32::from(ip);
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    if bits & !mask != 0 {
        let net = std::net::Ipv4Addr::from(bits & mask);
        return Err(format!("`{s}` has host bits set; the network address is `{net}/{prefix}`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Ok(5400));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("45s"), Ok(45));
        assert!(parse_duration("90").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn cidr_checks() {
        assert!(check_cidr("10.0.0.0/16").is_ok());
        assert!(check_cidr("0.0.0.0/0").is_ok());
        assert!(check_cidr("10.0.0.1/16").unwrap_err().contains("10.0.0.0/16"));
        assert!(check_cidr("10.0.0.0/33").is_err());
        assert!(check_cidr("10.0.0/16").is_err());
        assert!(check_cidr("10.0.0.0").is_err());
    }
}
