//! Tag sets: the `key -> value` labels every sample carries (k6's system and user tags).

use std::collections::BTreeMap;

/// An ordered set of tags. Ordered so that equal sets compare and hash equal and so that outputs
/// (remote write labels, summary keys) come out sorted without extra work.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagSet(BTreeMap<String, String>);

impl TagSet {
    /// An empty set.
    pub fn new() -> Self {
        TagSet(BTreeMap::new())
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All tags in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when every pair of `filter` is in `self` (k6's sub-metric match rule).
    pub fn contains_all(&self, filter: &TagSet) -> bool {
        filter.iter().all(|(k, v)| self.get(k) == Some(v))
    }

    /// Adds every pair of `other`, overriding existing keys.
    pub fn extend_from(&mut self, other: &TagSet) {
        for (k, v) in other.iter() {
            self.insert(k, v);
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for TagSet {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        TagSet(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_match() {
        let sample: TagSet = [("status", "200"), ("method", "GET")].into_iter().collect();
        let filter: TagSet = [("status", "200")].into_iter().collect();
        assert!(sample.contains_all(&filter));
        let other: TagSet = [("status", "404")].into_iter().collect();
        assert!(!sample.contains_all(&other));
        assert!(sample.contains_all(&TagSet::new()));
    }
}
