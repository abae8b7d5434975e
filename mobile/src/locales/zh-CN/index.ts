// One module per feature; add yours here.
import common from "./common";
import raise from "./raise";
import rate from "./rate";
import room from "./room";

export default { common, raise, rate, room };
