//! The institution tree as the dashboards walk it: which holders make up
//! "an institution" (itself and its units), "a subtree" (everything below),
//! and the rows of a ranking. Loaded whole (a few thousand rows) and kept
//! for a short while, like the other reference data.

use lapor_domain::Error;
use lapor_domain::institution::{Institution, InstitutionKind};
use lapor_store::{InstitutionQuery, Store};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Tree {
    nodes: HashMap<String, Institution>,
    /// Children of each code, by name.
    children: HashMap<String, Vec<String>>,
    roots: Vec<String>,
}

impl Tree {
    pub fn new(list: Vec<Institution>) -> Tree {
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        let mut roots = Vec::new();
        for i in &list {
            match &i.parent {
                Some(p) => children.entry(p.clone()).or_default().push(i.code.clone()),
                None => roots.push(i.code.clone()),
            }
        }
        let nodes: HashMap<String, Institution> = list.into_iter().map(|i| (i.code.clone(), i)).collect();
        let by_name = |v: &mut Vec<String>| v.sort_by(|a, b| nodes[a].name.cmp(&nodes[b].name).then(a.cmp(b)));
        for v in children.values_mut() {
            by_name(v);
        }
        by_name(&mut roots);
        Tree { nodes, children, roots }
    }

    /// Every institution's code, in no order.
    pub fn codes(&self) -> impl Iterator<Item = &String> {
        self.nodes.keys()
    }

    pub fn get(&self, code: &str) -> Option<&Institution> {
        self.nodes.get(code)
    }

    pub fn name(&self, code: &str) -> String {
        self.nodes
            .get(code)
            .map_or_else(|| code.to_string(), |i| i.name.clone())
    }

    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    pub fn children(&self, code: &str) -> &[String] {
        self.children.get(code).map_or(&[], |v| v.as_slice())
    }

    /// Codes from the root down to `code` (inclusive), as `authorize` wants.
    pub fn path(&self, code: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = self.nodes.get(code);
        while let Some(i) = at {
            if out.contains(&i.code) {
                break; // a cycle would be a data error; do not spin
            }
            out.push(i.code.clone());
            at = i.parent.as_deref().and_then(|p| self.nodes.get(p));
        }
        out.reverse();
        out
    }

    /// `code` and everything below it.
    pub fn subtree(&self, code: &str) -> Vec<String> {
        self.walk(code, &|_| true)
    }

    /// `code` with its units (and their units): the institution itself,
    /// without the regencies below a province.
    pub fn own(&self, code: &str) -> Vec<String> {
        self.walk(code, &|i| i.kind == InstitutionKind::Unit)
    }

    fn walk(&self, code: &str, follow: &dyn Fn(&Institution) -> bool) -> Vec<String> {
        let mut out = vec![code.to_string()];
        let mut i = 0;
        while i < out.len() {
            for c in self.children(&out[i]) {
                if self.nodes.get(c).is_some_and(follow) && !out.contains(c) {
                    out.push(c.clone());
                }
            }
            i += 1;
        }
        out
    }

    /// Every regional government (province, regency, city), by name.
    pub fn regional_governments(&self) -> Vec<String> {
        self.of_kinds(&[
            InstitutionKind::Province,
            InstitutionKind::Regency,
            InstitutionKind::City,
        ])
    }

    pub fn of_kinds(&self, kinds: &[InstitutionKind]) -> Vec<String> {
        let mut v: Vec<&Institution> = self.nodes.values().filter(|i| kinds.contains(&i.kind)).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name).then(a.code.cmp(&b.code)));
        v.into_iter().map(|i| i.code.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// The tree, reloaded at most every 30 seconds or when told it changed.
#[derive(Default)]
pub struct TreeCache {
    cached: Mutex<Option<(Instant, Arc<Tree>)>>,
}

const TTL: Duration = Duration::from_secs(30);

impl TreeCache {
    pub async fn get(&self, store: &dyn Store) -> Result<Arc<Tree>, Error> {
        if let Ok(g) = self.cached.lock()
            && let Some((at, t)) = g.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(t.clone());
        }
        let list = store
            .institutions(&InstitutionQuery {
                limit: 1_000_000,
                ..Default::default()
            })
            .await?;
        let tree = Arc::new(Tree::new(list));
        if let Ok(mut g) = self.cached.lock() {
            *g = Some((Instant::now(), tree.clone()));
        }
        Ok(tree)
    }

    pub fn forget(&self) {
        if let Ok(mut g) = self.cached.lock() {
            *g = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_domain::calendar::Zone;

    fn inst(code: &str, kind: InstitutionKind, parent: Option<&str>) -> Institution {
        Institution {
            code: code.into(),
            name: code.to_uppercase(),
            kind,
            parent: parent.map(Into::into),
            region_code: None,
            zone: Zone::Wib,
        }
    }

    #[test]
    fn own_stops_at_regencies_and_subtree_does_not() {
        use InstitutionKind::*;
        let t = Tree::new(vec![
            inst("lapor", NationalOperator, None),
            inst("pemprov-32", Province, Some("lapor")),
            inst("pemprov-32-dinkes", Unit, Some("pemprov-32")),
            inst("pemkot-32.73", City, Some("pemprov-32")),
            inst("pemkot-32.73-dishub", Unit, Some("pemkot-32.73")),
            inst("pemkot-32.73-dishub-seksi", Unit, Some("pemkot-32.73-dishub")),
        ]);
        let mut own = t.own("pemprov-32");
        own.sort();
        assert_eq!(own, ["pemprov-32", "pemprov-32-dinkes"]);
        assert_eq!(t.own("pemkot-32.73").len(), 3);
        assert_eq!(t.subtree("pemprov-32").len(), 5);
        assert_eq!(
            t.path("pemkot-32.73-dishub"),
            ["lapor", "pemprov-32", "pemkot-32.73", "pemkot-32.73-dishub"]
        );
        assert_eq!(
            t.regional_governments(),
            ["PEMKOT-32.73", "PEMPROV-32"].map(|n| n.to_lowercase())
        );
        assert!(t.path("ghost").is_empty());
    }
}
