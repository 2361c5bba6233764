use lockstep_check::catalog_view::CatalogView;
use lockstep_check::posture::ProductGraph;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cat = lockstep_catalog::Catalog::open(std::path::Path::new(&args[1])).unwrap();
    let v = CatalogView::new(cat);
    let g = ProductGraph::build(&args[2], None, Some("2019-03-05".parse().unwrap()), &v);
    let want: Vec<lockstep_model::KbId> = args[3..].iter().map(|k| k.parse().unwrap()).collect();
    for r in g.debug_rows() {
        if want.contains(&r.0) || r.4.iter().any(|o| want.contains(o)) {
            println!("{:?}", r);
        }
    }
}
