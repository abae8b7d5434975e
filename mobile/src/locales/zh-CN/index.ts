// One module per feature; add yours here.
import common from "./common";

export default { common };
