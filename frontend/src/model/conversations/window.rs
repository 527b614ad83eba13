//! Which of the list's rows exist in the DOM: those in the scroller's view plus a few above and
//! below, for a scroll offset, a viewport and a row height (all in pixels). Pure, so the
//! arithmetic a 100,000-row list depends on is tested here and `views/list.rs` only renders.

/// Row height in rem; must match `.msg-row` in main.css. Rem, not px, so that the three lines of
/// a row still fit when the user enlarges the browser's default font size.
pub const ROW_HEIGHT_REM: f64 = 4.75;
/// The row height in pixels at the default 16 px font, until the list has measured it.
pub const DEFAULT_ROW_PX: f64 = ROW_HEIGHT_REM * 16.0;
/// Extra rows rendered above and below the viewport, so a fast scroll or a key press finds
/// the next row already there.
pub const OVERSCAN: usize = 8;
/// The viewport assumed until the scroller is measured (and at least this, so the first
/// render fills a tall window).
pub const MIN_VIEWPORT_PX: f64 = 300.0;

/// The scroller as last measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Viewport {
    /// How far the list is scrolled.
    pub scroll_top: f64,
    /// The scroller's visible height.
    pub height: f64,
    /// One row's height.
    pub row_height: f64,
}

/// The rows to render: `first..end` of `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub first: usize,
    pub end: usize,
    pub total: usize,
}

impl Viewport {
    /// A row height the arithmetic can divide by: a measurement of nothing (a hidden list)
    /// counts as the default.
    fn row(&self) -> f64 {
        if self.row_height.is_finite() && self.row_height > 0.0 {
            self.row_height
        } else {
            DEFAULT_ROW_PX
        }
    }

    /// The rows of a list of `total` to render. Never past the end: a scroll offset left from
    /// a longer list (the folder switched before the browser clamped it) gives the last rows.
    pub fn window(&self, total: usize) -> Window {
        let row = self.row();
        let height = self.height.max(MIN_VIEWPORT_PX);
        let top = self.scroll_top.max(0.0);
        let in_view = (height / row).ceil() as usize + 1;
        let count = in_view + 2 * OVERSCAN;
        let first_in_view = ((top / row) as usize).min(total.saturating_sub(in_view));
        let first = first_in_view.saturating_sub(OVERSCAN);
        let end = (first + count).min(total);
        Window { first, end, total }
    }

    /// Where row `index` starts.
    pub fn top_of(&self, index: usize) -> f64 {
        index as f64 * self.row()
    }

    /// The height of all `total` rows: the spacer that gives the scrollbar its length.
    pub fn height_of(&self, total: usize) -> f64 {
        self.top_of(total)
    }

    /// The scroll offset that brings row `index` wholly into view, moving as little as
    /// possible (the row lands at the top or the bottom edge); `None` when it is in view.
    pub fn scroll_to_show(&self, index: usize) -> Option<f64> {
        let top = self.top_of(index);
        let bottom = top + self.row();
        // A row taller than the view shows its top (its bottom edge would push it out again).
        if top < self.scroll_top || self.row() > self.height {
            ((top - self.scroll_top).abs() >= 0.5).then_some(top)
        } else if bottom > self.scroll_top + self.height {
            Some((bottom - self.height).max(0.0))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn at(scroll_top: f64, height: f64) -> Viewport {
        Viewport {
            scroll_top,
            height,
            row_height: 76.0,
        }
    }

    fn check(v: Viewport, total: usize, expected: (usize, usize)) {
        let w = v.window(total);
        assert_eq!((w.first, w.end), expected, "{v:?} of {total}");
        assert_eq!(w.total, total);
    }

    #[test]
    fn the_window_is_the_rows_in_view_and_the_overscan() {
        // 760 px show 10 rows (and part of an 11th): 12 plus 8 each side, from the top.
        check(at(0.0, 760.0), 100_000, (0, 11 + 16));
        // Scrolled to row 1,000: 8 rows before it, then as many as fit and 8 after.
        check(at(76_000.0, 760.0), 100_000, (992, 992 + 11 + 16));
        // Half a row scrolled still starts at that row.
        check(at(76_038.0, 760.0), 100_000, (992, 992 + 11 + 16));
        // The same at 1,000 rows as at 100,000: what is rendered does not grow with the list.
        let small = at(38_000.0, 760.0).window(1_000);
        let large = at(38_000.0, 760.0).window(100_000);
        assert_eq!(small.end - small.first, large.end - large.first);
    }

    #[test]
    fn short_lists_and_the_end_are_rendered_whole() {
        check(at(0.0, 760.0), 0, (0, 0));
        check(at(0.0, 760.0), 5, (0, 5));
        // At the bottom of 3,000 rows the last is rendered.
        let bottom = 3_000.0 * 76.0 - 760.0;
        let w = at(bottom, 760.0).window(3_000);
        assert_eq!(w.end, 3_000);
        assert!(w.end - w.first <= 11 + 16, "{w:?}");
    }

    #[test]
    fn an_offset_left_from_a_longer_list_gives_its_last_rows() {
        // Scrolled to the bottom of 100,000, then a folder of 10: never a window past the end.
        check(at(7_600_000.0, 760.0), 10, (0, 10));
        check(at(7_600_000.0, 760.0), 0, (0, 0));
        let w = at(7_600_000.0, 760.0).window(500);
        assert_eq!(w.end, 500);
        assert!(w.first < w.end);
    }

    #[test]
    fn an_unmeasured_scroller_renders_a_screenful() {
        // Before the scroller is measured (height 0) or when the ruler measured nothing.
        let v = Viewport {
            scroll_top: 0.0,
            height: 0.0,
            row_height: 0.0,
        };
        let w = v.window(1_000);
        assert_eq!(w.first, 0);
        assert!(w.end as f64 * DEFAULT_ROW_PX >= MIN_VIEWPORT_PX, "{w:?}");
        assert_eq!(v.top_of(2), 2.0 * DEFAULT_ROW_PX);
    }

    #[test]
    fn a_row_out_of_view_is_scrolled_to_the_nearest_edge() {
        let v = at(7_600.0, 760.0); // rows 100 to 109 in view
        assert_eq!(v.scroll_to_show(100), None);
        assert_eq!(v.scroll_to_show(109), None);
        // The next row below: the list moves by one row, it lands at the bottom edge.
        assert_eq!(v.scroll_to_show(110), Some(111.0 * 76.0 - 760.0));
        // Above: it lands at the top edge.
        assert_eq!(v.scroll_to_show(99), Some(99.0 * 76.0));
        assert_eq!(v.scroll_to_show(0), Some(0.0));
        // Far below (a jump past the window).
        assert_eq!(v.scroll_to_show(5_000), Some(5_001.0 * 76.0 - 760.0));
        // A row taller than the view goes to the top.
        assert_eq!(at(0.0, 50.0).scroll_to_show(0), None);
        assert_eq!(at(0.0, 50.0).scroll_to_show(3), Some(3.0 * 76.0));
        // The window after that scroll holds the row.
        let to = v.scroll_to_show(5_000).unwrap();
        let w = at(to, 760.0).window(100_000);
        assert!(w.first <= 5_000 && 5_000 < w.end, "{w:?}");
    }
}
