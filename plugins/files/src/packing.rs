//! Which files of a group one partition reads. A small file read whole is cheap to read but
//! costs a call and an instance of its own when it is its own partition; so runs of small
//! files are packed, many to a partition. Packs are balanced on bytes and on files (a file
//! costs an open and a schema inference whatever its size), hold at most [`PACK_FILES`]
//! files, and their number is rounded up to a multiple of the readers so none is left alone
//! with the last one. Files keep their order: packs are consecutive runs.

/// The most files one partition reads.
pub const PACK_FILES: usize = 256;

/// For each of a group's files in order, `Some(size)` when it is small and read whole (it
/// may be packed), `None` when it is split or large (it is its own partitions): the index of
/// the partition each file starts, so that equal indices of consecutive small files mean one
/// pack. Indices grow with the files.
pub fn assign(files: &[Option<u64>], target: u64, readers: u32) -> Vec<usize> {
    let small: Vec<u64> = files.iter().flatten().copied().collect();
    let count = packs(&small, target, readers);
    let total_bytes = u128::from(small.iter().sum::<u64>());
    let files_count = small.len().max(1) as u128;
    // Each small file weighs its share of the bytes plus its share of the files, scaled to
    // whole numbers: size / total + 1 / n = (size * n + total) / (n * total).
    let weight = |size: u64| {
        if total_bytes == 0 {
            1
        } else {
            u128::from(size) * files_count + total_bytes
        }
    };
    let total_weight: u128 = small.iter().map(|s| weight(*s)).sum::<u128>().max(1);
    let mut assigned = Vec::with_capacity(files.len());
    let mut partition = 0usize;
    let mut seen = 0u128;
    let mut last_pack: Option<usize> = None;
    let mut previous_small = false;
    for (index, file) in files.iter().enumerate() {
        match file {
            Some(size) => {
                let pack = ((seen * count as u128 / total_weight) as usize).min(count - 1);
                seen += weight(*size);
                if index > 0 && !(previous_small && last_pack == Some(pack)) {
                    partition += 1;
                }
                last_pack = Some(pack);
                previous_small = true;
            }
            None => {
                if index > 0 {
                    partition += 1;
                }
                previous_small = false;
            }
        }
        assigned.push(partition);
    }
    assigned
}

/// How many packs the small files make: enough for the bytes and for [`PACK_FILES`], a
/// multiple of the readers when more than one, never more than the files.
fn packs(sizes: &[u64], target: u64, readers: u32) -> usize {
    if sizes.is_empty() {
        return 1;
    }
    let bytes: u64 = sizes.iter().sum();
    let by_bytes = bytes.div_ceil(target.max(1)) as usize;
    let by_files = sizes.len().div_ceil(PACK_FILES);
    let count = by_bytes.max(by_files).max(1);
    let count = if count > 1 {
        let readers = readers.max(1) as usize;
        count.div_ceil(readers) * readers
    } else {
        count
    };
    count.min(sizes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many files each partition holds.
    fn sizes_of(assigned: &[usize]) -> Vec<usize> {
        let mut counts = vec![0; assigned.last().map_or(0, |l| l + 1)];
        for a in assigned {
            counts[*a] += 1;
        }
        counts
    }

    #[test]
    fn many_small_files_make_few_balanced_packs() {
        let files = vec![Some(120); 3000];
        let assigned = assign(&files, 64 << 20, 2);
        let counts = sizes_of(&assigned);
        // 3000 files need 12 packs of at most 256; 12 is a multiple of 2 readers.
        assert_eq!(counts.len(), 12);
        assert!(counts.iter().all(|c| *c == 250), "{counts:?}");
        assert!(
            assigned
                .windows(2)
                .all(|w| w[1] == w[0] || w[1] == w[0] + 1)
        );
    }

    #[test]
    fn few_small_files_are_one_pack_and_bytes_split_packs_too() {
        assert_eq!(assign(&[Some(10); 5], 1000, 4), vec![0; 5]);
        // 4 files of 600 bytes, target 1000: 3 packs by bytes, rounded to 4 for 2 readers.
        assert_eq!(sizes_of(&assign(&[Some(600); 4], 1000, 2)), vec![1; 4]);
        // 6 files of 400 bytes, target 1000: 3 packs by bytes, 4 for 2 readers.
        let counts = sizes_of(&assign(&[Some(400); 6], 1000, 2));
        assert_eq!(counts.len(), 4);
        assert_eq!(counts.iter().sum::<usize>(), 6);
    }

    #[test]
    fn a_large_file_stands_alone_and_splits_runs() {
        let files = [Some(1), Some(1), None, Some(1), None, None];
        assert_eq!(assign(&files, 1000, 1), vec![0, 0, 1, 2, 3, 4]);
        assert_eq!(assign(&[None], 1000, 1), vec![0]);
        assert!(assign(&[], 1000, 1).is_empty());
    }

    #[test]
    fn empty_files_are_packed_by_count() {
        let counts = sizes_of(&assign(&[Some(0); 600], 1000, 2));
        assert_eq!(counts, vec![150; 4]);
    }
}
