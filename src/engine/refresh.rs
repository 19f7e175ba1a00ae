//! Refresh: read every resource in state from the cloud, one batched read per type, and
//! return the state as the cloud has it now (resources gone from the cloud are dropped).

use crate::provider::Provider;
use crate::schema::Catalog;
use crate::state::State;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
#[error("cannot read {ty} resources ({addresses}): {error}")]
pub struct RefreshError {
    pub ty: String,
    pub addresses: String,
    pub error: Box<crate::provider::ProviderError>,
}

/// How many types are read at once (each type's read may itself run several calls).
pub const TYPES_AT_ONCE: usize = 8;

pub async fn refresh(provider: &dyn Provider, catalog: &Catalog, state: &State) -> Result<State, RefreshError> {
    let mut out = state.clone();
    let mut by_type: BTreeMap<&str, Vec<&crate::state::ResourceState>> = BTreeMap::new();
    for r in &state.resources {
        by_type.entry(r.ty.as_str()).or_default().push(r);
    }
    let groups: Vec<_> =
        by_type.into_iter().filter_map(|(name, resources)| Some((catalog.lookup(name)?, resources))).collect();
    // The types are read concurrently: a refresh waits for its slowest read, not the sum.
    type Read = Result<Vec<Option<crate::provider::Observed>>, crate::provider::ProviderError>;
    let reads: Vec<crate::concurrency::BoxFuture<'_, Read>> = groups
        .iter()
        .map(|(ty, resources)| {
            let ids: Vec<String> = resources.iter().map(|r| r.id.clone()).collect();
            Box::pin(async move { provider.read(ty, &ids).await }) as crate::concurrency::BoxFuture<'_, Read>
        })
        .collect();
    let results = crate::concurrency::bounded(reads, TYPES_AT_ONCE).await;
    for ((ty, resources), observed) in groups.iter().zip(results) {
        let observed = observed.map_err(|error| RefreshError {
            ty: ty.name.to_string(),
            addresses: resources.iter().map(|r| r.address.as_str()).collect::<Vec<_>>().join(", "),
            error: Box::new(error),
        })?;
        for (r, obs) in resources.iter().zip(observed) {
            match obs {
                None => {
                    out.remove(&r.address);
                }
                Some(obs) => {
                    let mut updated = (*r).clone();
                    for (k, v) in obs.properties {
                        if ty.prop(&k).is_some() && !ty.secret(&k, &r.sensitive) {
                            updated.properties.insert(k, v);
                        }
                    }
                    if !obs.attributes.is_empty() {
                        updated.attributes = obs.attributes;
                    }
                    out.put(updated);
                }
            }
        }
    }
    Ok(out)
}

/// Read the stack's data sources, each after those its filter uses, for the plan: read
/// only, nothing is changed. A failed read is (address, why).
pub async fn read_data(
    provider: &dyn Provider,
    sources: &[crate::config::DataSource],
) -> Result<Vec<crate::plan::DataRead>, (String, String)> {
    let mut read: Vec<crate::plan::DataRead> = Vec::new();
    for d in sources {
        let filter = d.filter.resolve(&|r: &crate::expr::Ref| {
            read.iter().find(|x| x.address == r.resource)?.attrs.get(&r.attr).cloned()
        });
        if crate::expr::contains_unknown(&filter) {
            return Err((
                d.address.clone(),
                "its filter uses a value the data sources it reads from do not have".into(),
            ));
        }
        let filter = filter.as_object().cloned().unwrap_or_default();
        let mut attrs = provider.read_data(d.kind, &filter).await.map_err(|e| (d.address.clone(), e.to_string()))?;
        // Exactly the attributes the kind declares (what validate checked references against).
        attrs.retain(|k, _| d.kind.attrs.contains(&k.as_str()));
        read.push(crate::plan::DataRead { address: d.address.clone(), ty: d.kind.name.to_string(), attrs });
    }
    Ok(read)
}

/// Read what `import:` names (address, type, ID) from the cloud, as state entries. An ID
/// that names nothing, or something that carries another stack's or environment's
/// ownership tags, is refused: (address, why) for each. (This stack's own, at another
/// address, is what `removed:` or `state rm` left behind: it may come back.)
pub async fn read_imports(
    provider: &dyn Provider,
    catalog: &Catalog,
    stack: &str,
    env: &str,
    wanted: &[(String, String, String)],
) -> Result<Vec<crate::state::ResourceState>, Vec<(String, String)>> {
    let mut stub = State::new(stack, env);
    let mut problems = Vec::new();
    for (address, ty, id) in wanted {
        if catalog.lookup(ty).is_none() {
            problems.push((address.clone(), format!("`{ty}` is not a type this cloudbridge knows")));
            continue;
        }
        stub.put(crate::state::ResourceState {
            address: address.clone(),
            ty: ty.clone(),
            id: id.clone(),
            properties: Default::default(),
            attributes: Default::default(),
            dependencies: Vec::new(),
            pending: None,
            sensitive: Vec::new(),
        });
    }
    let read = match refresh(provider, catalog, &stub).await {
        Ok(r) => r,
        Err(e) => {
            problems.push((e.addresses.clone(), format!("reading it failed: {}", e.error)));
            return Err(problems);
        }
    };
    let mut out = Vec::new();
    for r in &stub.resources {
        let Some(found) = read.get(&r.address) else {
            problems.push((r.address.clone(), format!("there is no {} with ID `{}`", r.ty, r.id)));
            continue;
        };
        // Another deployment's lineage is no bar: an import is the explicit way to take
        // over what a lost state made. Another stack or environment is.
        if let Some(owner) = crate::ownership::of(&found.properties) {
            if owner.iter().zip([stack, env]).any(|((_, have), want)| have != want) {
                let said: Vec<String> = owner.iter().map(|(k, v)| format!("{k}={v}")).collect();
                problems.push((
                    r.address.clone(),
                    format!("`{}` belongs to another stack or environment ({}); cloudbridge never takes over what another stack manages", r.id, said.join(", ")),
                ));
                continue;
            }
        }
        out.push(found.clone());
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::memory::MemoryProvider;
    use crate::provider::{CreateRequest, Props};
    use serde_json::json;

    #[tokio::test]
    async fn refresh_reads_back_and_drops_deleted() {
        let p = MemoryProvider::new();
        let ty = crate::testutil::catalog().lookup("aws.ec2.vpc").unwrap();
        let mut props = Props::new();
        props.insert("cidr_block".into(), json!("10.0.0.0/16"));
        let a = p.create(CreateRequest { ty, address: "a", props: &props, ctx: &Default::default() }).await.unwrap();
        let b = p.create(CreateRequest { ty, address: "b", props: &props, ctx: &Default::default() }).await.unwrap();
        let mut s = State::new("st", "dev");
        for (addr, o) in [("a", &a), ("b", &b)] {
            s.put(crate::state::ResourceState {
                address: addr.into(),
                ty: ty.name.into(),
                id: o.id.clone(),
                properties: o.properties.clone(),
                attributes: o.attributes.clone(),
                dependencies: vec![],
                pending: None,
                sensitive: vec![],
            });
        }
        p.tamper("a", "cidr_block", json!("10.9.0.0/16"));
        p.remove("b");
        let before = p.calls().len();
        let r = refresh(&p, &crate::testutil::catalog(), &s).await.unwrap();
        assert_eq!(r.resources.len(), 1);
        assert_eq!(r.get("a").unwrap().properties["cidr_block"], json!("10.9.0.0/16"));
        // One batched read for both VPCs.
        assert_eq!(p.calls()[before..].iter().filter(|c| c.starts_with("read")).count(), 1);
    }
}
